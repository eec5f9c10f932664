#pragma once
/// \file util.h
/// \brief Small string helpers shared by the parsers.

#include <string>

namespace nam {
namespace util {
/// \brief ASCII lower-case copy of `s`.
std::string lowercase(const std::string& s);
} // namespace util
} // namespace nam
