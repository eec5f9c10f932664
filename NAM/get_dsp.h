#pragma once
/// \file get_dsp.h
/// \brief Loading models from `.nam` files or parsed JSON, and the file-version rules.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "dsp.h"
#include "nam_file.h"

namespace nam {

/// \brief How well a `.nam` file version is supported.
enum class Supported { NO = 0, PARTIAL = 1, YES = 2 };

/// \brief Decides which `.nam` file versions can be loaded. Register extra checkers with
/// `register_version_support_checker`; a version is as supported as the most permissive checker says.
class IVersionSupportChecker {
public:
  virtual ~IVersionSupportChecker() = default;
  /// \brief How well `version` (the file's `version` string, not necessarily well formed) is supported.
  virtual Supported support(const std::string& version) const = 0;
};

/// \brief A `MAJOR.MINOR.PATCH` version, ordered component by component.
class Version {
public:
  /// \brief The version major.minor.patch.
  Version(int major, int minor, int patch) : major(major), minor(minor), patch(patch) {}
  /// \brief `MAJOR.MINOR.PATCH`, e.g. "0.5.4".
  std::string toString() const;
  /// \brief Compares major, then minor, then patch.
  bool operator<(const Version& other) const { return key() < other.key(); }
  /// \brief Compares major, then minor, then patch.
  bool operator>(const Version& other) const { return other < *this; }

  int major; ///< first component
  int minor; ///< second component
  int patch; ///< third component

private:
  std::tuple<int, int, int> key() const { return {major, minor, patch}; }
};

/// \brief Parses `MAJOR.MINOR.PATCH`. Throws std::invalid_argument for non-numeric or negative parts and
/// std::out_of_range for parts that overflow an int.
Version ParseVersion(const std::string& versionStr);

/// \brief Adds a checker (thread-safe). Throws std::invalid_argument for nullptr.
void register_version_support_checker(std::shared_ptr<const IVersionSupportChecker> checker);
/// \brief The best support any registered checker gives `version` (thread-safe).
Supported is_version_supported(const std::string version);
// verify_config_version() is declared in dsp.h.

/// \brief Newest file version supported without reservation; newer patch releases load with a warning.
const std::string LATEST_FULLY_SUPPORTED_NAM_FILE_VERSION = "0.7.0";
/// \brief Oldest file version that loads.
const std::string EARLIEST_SUPPORTED_NAM_FILE_VERSION = "0.5.0";

/// \brief Options for `get_dsp`.
struct DspLoadOptions {
  /// \brief If set, models are built as if inside `ScopedPrewarmOnResetDefault(*prewarm)` (which matters
  /// only for a model that resets itself while it is built); the returned model then gets the caller's
  /// default again. Unset: the caller's thread-local default applies.
  std::optional<bool> prewarm = std::nullopt;
};

/// \brief Loads a model from a `.nam` file. The model is not reset: call `Reset()` before `process()`.
/// Throws NamFileValidationError (a std::runtime_error) whose message names the file, and for bad
/// contents the key and what was expected.
std::unique_ptr<DSP> get_dsp(const std::filesystem::path config_filename,
                             DspLoadOptions options = DspLoadOptions());
/// \brief As above, and fills `returnedConfig` with the file's contents (weights included).
std::unique_ptr<DSP> get_dsp(const std::filesystem::path config_filename, dspData& returnedConfig,
                             DspLoadOptions options = DspLoadOptions());
/// \brief Builds a model from already-read file contents. Moves `conf.weights` into the model.
/// Throws std::runtime_error.
std::unique_ptr<DSP> get_dsp(dspData& conf, DspLoadOptions options = DspLoadOptions());
/// \brief Builds a model from a parsed `.nam` object. Throws std::runtime_error.
std::unique_ptr<DSP> get_dsp(const nlohmann::json& config, DspLoadOptions options = DspLoadOptions());
/// \brief As above, and fills `returnedConfig` with the object's contents.
std::unique_ptr<DSP> get_dsp(const nlohmann::json& config, dspData& returnedConfig,
                             DspLoadOptions options = DspLoadOptions());

/// \brief The `sample_rate` of a parsed `.nam` object, or -1 when it has none.
double get_sample_rate_from_nam_file(const nlohmann::json& j);

/// \brief Loads a nested model object (a container's submodel, a WaveNet's condition model) found at key path
/// `where` of its file; errors are prefixed with that path. Used by the architectures.
std::unique_ptr<DSP> load_nested_model(const nlohmann::json& model, const std::string& where);

} // namespace nam
