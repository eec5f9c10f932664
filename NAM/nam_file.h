#pragma once
/// \file nam_file.h
/// \brief Reading and checking the outer structure of `.nam` files.

#include <filesystem>
#include <stdexcept>
#include <string>

#include "json.h"

namespace nam {
struct dspData;

/// \brief A `.nam` file that cannot be loaded. The message names the file and, where it applies, the key.
class NamFileValidationError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// \brief Reads and parses a `.nam` file and checks that its root is an object with the required keys
/// (`version`, `architecture`, `config`, `weights`). Returns the parsed JSON.
/// Throws NamFileValidationError naming the file for a missing, unreadable or unparsable file.
nlohmann::json validate_nam_file(const std::filesystem::path& filename);

/// \brief Reads a parsed `.nam` object (top level or nested) into `out`: version, architecture, config,
/// weights (as floats), metadata and sample rate, checking each key's type. `where` is the key path of
/// the object in its file (empty for the top level) and prefixes every error message.
/// Throws std::runtime_error.
void read_nam_object(const nlohmann::json& root, dspData& out, const std::string& where);
} // namespace nam
