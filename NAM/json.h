#pragma once
/// \file json.h
/// \brief Finds nlohmann::json on the include path.
///
/// Plugin projects put the vendored single header (`json.hpp`) directly on their include path, while
/// system packages install it as `nlohmann/json.hpp`. A vendored copy wins so that a plugin that also
/// includes it never sees two different versions in one translation unit.

#if __has_include("json.hpp")
#  include "json.hpp"
#elif __has_include(<nlohmann/json.hpp>)
#  include <nlohmann/json.hpp>
#else
#  error "nlohmann/json not found: add its include directory (see Dependencies/README.md)"
#endif
