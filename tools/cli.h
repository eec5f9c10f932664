#pragma once
// Small helpers shared by the command-line tools: strict number parsing and uniform error exits.

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace nam_tools {

/// Parses a whole decimal integer in [lo, hi]; nullopt for anything else ("12x", "", overflow).
inline std::optional<long> parse_integer(const std::string& text, long lo, long hi) {
  if (text.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || value < lo || value > hi)
    return std::nullopt;
  return value;
}

/// Parses a whole finite number in [lo, hi]; nullopt for anything else.
inline std::optional<double> parse_number(const std::string& text, double lo, double hi) {
  if (text.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !(value >= lo && value <= hi))
    return std::nullopt;
  return value;
}

/// Prints "<tool>: <message>" and the usage text to stderr and exits with status 1.
[[noreturn]] inline void fail_usage(const char* tool, const std::string& message, const char* usage) {
  std::cerr << tool << ": " << message << "\n\n" << usage;
  std::exit(1);
}

/// Prints "<tool>: error: <message>" to stderr and exits with status 1.
[[noreturn]] inline void fail(const char* tool, const std::string& message) {
  std::cerr << tool << ": error: " << message << "\n";
  std::exit(1);
}

} // namespace nam_tools
