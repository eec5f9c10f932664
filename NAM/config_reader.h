#pragma once
/// \file config_reader.h
/// \brief Typed, checked reads from the JSON of a `.nam` file.
///
/// Every architecture parser reads its config through `ConfigReader`, so that a bad value is reported
/// with the full key path (`config.layers[1].dilations[3]`), what was expected and what was found,
/// always as a std::runtime_error (never a JSON-library exception, which plugins do not catch).

#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "json.h"

namespace nam {

/// \brief Largest channel count (or hidden size, or other layer width) a config may ask for. Real models use
/// a few dozen; the bound lets parsers refuse a corrupt size before anything is allocated from it.
constexpr int kMaxChannels = 4096;

/// \brief Short human-readable description of a JSON value for error messages, e.g. `string "abc"`.
inline std::string describe_json_value(const nlohmann::json& value) {
  if (value.is_null())
    return "null";
  std::string text = value.dump();
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return std::string(value.type_name()) + " " + text;
}

/// \brief Throws std::runtime_error("<where>: <message>").
[[noreturn]] inline void throw_config_error(const std::string& where, const std::string& message) {
  throw std::runtime_error(where.empty() ? message : where + ": " + message);
}

/// \brief Converts a JSON number to an int in [lo, hi]. Integral floats (`16.0`) are accepted; fractions,
/// non-numbers and out-of-range values are errors naming `where`.
inline int json_to_int(const nlohmann::json& value, const std::string& where, const long long lo = INT_MIN,
                       const long long hi = INT_MAX) {
  long long v = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<unsigned long long>();
    v = u > static_cast<unsigned long long>(LLONG_MAX) ? LLONG_MAX : static_cast<long long>(u);
  } else if (value.is_number_integer()) {
    v = value.get<long long>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9.0e18)
      throw_config_error(where, "expected an integer, got " + describe_json_value(value));
    v = static_cast<long long>(d);
  } else {
    throw_config_error(where, "expected an integer, got " + describe_json_value(value));
  }
  if (v < lo || v > hi) {
    std::string range = hi == INT_MAX ? "at least " + std::to_string(lo)
                                      : "between " + std::to_string(lo) + " and " + std::to_string(hi);
    throw_config_error(where, "must be " + range + ", got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

/// \brief Converts a JSON number to a double; anything else is an error naming `where`.
inline double json_to_number(const nlohmann::json& value, const std::string& where) {
  if (!value.is_number())
    throw_config_error(where, "expected a number, got " + describe_json_value(value));
  return value.get<double>();
}

/// \brief Converts a JSON number to a finite float; anything else is an error naming `where`.
inline float json_to_float(const nlohmann::json& value, const std::string& where) {
  const double d = json_to_number(value, where);
  const float f = static_cast<float>(d);
  if (!std::isfinite(f))
    throw_config_error(where, "the number " + value.dump() + " does not fit in a 32-bit float");
  return f;
}

/// \brief Converts a JSON boolean; anything else (including 0/1) is an error naming `where`.
inline bool json_to_bool(const nlohmann::json& value, const std::string& where) {
  if (!value.is_boolean())
    throw_config_error(where, "expected true or false, got " + describe_json_value(value));
  return value.get<bool>();
}

/// \brief Converts a JSON string; anything else is an error naming `where`.
inline std::string json_to_string(const nlohmann::json& value, const std::string& where) {
  if (!value.is_string())
    throw_config_error(where, "expected a string, got " + describe_json_value(value));
  return value.get<std::string>();
}

/// \brief A JSON object of a `.nam` file together with its key path.
///
/// Keeps a reference to the object, which must outlive the reader. Every error is a std::runtime_error
/// whose message starts with the offending key's path.
class ConfigReader {
public:
  /// \param object must be a JSON object, else an error naming `path` is thrown.
  /// \param path key path of `object` in the file, prefixed to error messages (empty at the top level).
  ConfigReader(const nlohmann::json& object, std::string path) : _json(object), _path(std::move(path)) {
    if (!object.is_object())
      throw_config_error(_path, "expected a JSON object, got " + describe_json_value(object));
  }

  /// \brief The object read.
  const nlohmann::json& json() const { return _json; }
  /// \brief Key path of the object, as given to the constructor.
  const std::string& path() const { return _path; }
  /// \brief Path of a key of this object, e.g. `config.layers[0]` + `channels`.
  std::string path_of(const std::string& key) const { return _path.empty() ? key : _path + "." + key; }

  /// \brief The value of `key`, or nullptr when it is absent or null.
  const nlohmann::json* find(const std::string& key) const {
    const auto it = _json.find(key);
    return it == _json.end() || it->is_null() ? nullptr : &*it;
  }
  /// \brief True when the key is present with a non-null value.
  bool has(const std::string& key) const { return find(key) != nullptr; }
  /// \brief True when the key is present, even with a null value.
  bool contains(const std::string& key) const { return _json.find(key) != _json.end(); }

  /// \brief The value of a required key; a missing or null key is an error.
  const nlohmann::json& require(const std::string& key) const {
    const nlohmann::json* value = find(key);
    if (value == nullptr)
      throw_config_error(path_of(key), contains(key) ? "must not be null" : "required key is missing");
    return *value;
  }

  /// \brief Throws std::runtime_error("<path of key>: <message>").
  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw_config_error(path_of(key), message);
  }

  /// \brief A required integer in [lo, hi] (see json_to_int).
  int get_int(const std::string& key, const long long lo = INT_MIN, const long long hi = INT_MAX) const {
    return json_to_int(require(key), path_of(key), lo, hi);
  }
  /// \brief An integer in [lo, hi], or `fallback` when the key is absent or null.
  int get_int_or(const std::string& key, const int fallback, const long long lo = INT_MIN,
                 const long long hi = INT_MAX) const {
    const nlohmann::json* value = find(key);
    return value == nullptr ? fallback : json_to_int(*value, path_of(key), lo, hi);
  }
  /// \brief A required boolean.
  bool get_bool(const std::string& key) const { return json_to_bool(require(key), path_of(key)); }
  /// \brief A boolean, or `fallback` when the key is absent or null.
  bool get_bool_or(const std::string& key, const bool fallback) const {
    const nlohmann::json* value = find(key);
    return value == nullptr ? fallback : json_to_bool(*value, path_of(key));
  }
  /// \brief A required number.
  double get_number(const std::string& key) const { return json_to_number(require(key), path_of(key)); }
  /// \brief A required string.
  std::string get_string(const std::string& key) const { return json_to_string(require(key), path_of(key)); }
  /// \brief A string, or `fallback` when the key is absent or null.
  std::string get_string_or(const std::string& key, const std::string& fallback) const {
    const nlohmann::json* value = find(key);
    return value == nullptr ? fallback : json_to_string(*value, path_of(key));
  }

  /// \brief A required array of integers, each in [lo, hi]; `allow_empty` false rejects `[]`.
  std::vector<int> get_int_array(const std::string& key, const long long lo = INT_MIN,
                                 const long long hi = INT_MAX, const bool allow_empty = false) const {
    const nlohmann::json& value = require(key);
    if (!value.is_array())
      fail(key, "expected an array of integers, got " + describe_json_value(value));
    if (value.empty() && !allow_empty)
      fail(key, "must not be empty");
    std::vector<int> out;
    out.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i)
      out.push_back(json_to_int(value[i], path_of(key) + "[" + std::to_string(i) + "]", lo, hi));
    return out;
  }

  /// \brief A required nested object.
  ConfigReader get_object(const std::string& key) const { return ConfigReader(require(key), path_of(key)); }

private:
  const nlohmann::json& _json;
  std::string _path;
};

} // namespace nam
