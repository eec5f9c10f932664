#include <algorithm>
#include <cctype>
#include <iostream>
#include <mutex>
#include <new>
#include <stdexcept>

#include "builtin_architectures.h"
#include "config_reader.h"
#include "get_dsp.h"

namespace nam {

// Versions ==============================================================================================

std::string Version::toString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

Version ParseVersion(const std::string& versionStr) {
  int parts[3] = {0, 0, 0};
  size_t begin = 0;
  for (int i = 0; i < 3; ++i) {
    // The first two parts end at a dot; the last one takes the rest of the string.
    const size_t end = i < 2 ? versionStr.find('.', begin) : versionStr.size();
    const std::string part = versionStr.substr(std::min(begin, versionStr.size()),
                                               end == std::string::npos ? std::string::npos : end - begin);
    try {
      parts[i] = std::stoi(part);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("Invalid version string: " + versionStr);
    } catch (const std::out_of_range&) {
      throw std::out_of_range("Version string out of range: " + versionStr);
    }
    if (parts[i] < 0)
      throw std::invalid_argument("Negative version component: " + versionStr);
    begin = end == std::string::npos ? versionStr.size() : end + 1;
  }
  return Version(parts[0], parts[1], parts[2]);
}

namespace {

bool is_three_numbers(const std::string& text) {
  int dots = 0;
  bool digit_before = false;
  for (const char ch : text) {
    if (ch == '.') {
      if (!digit_before)
        return false;
      ++dots;
      digit_before = false;
    } else if (std::isdigit(static_cast<unsigned char>(ch))) {
      digit_before = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit_before;
}

// The rule of this library: EARLIEST..LATEST load; a newer patch of LATEST loads with a warning.
class CoreVersionSupport : public IVersionSupportChecker {
public:
  Supported support(const std::string& version) const override {
    if (!is_three_numbers(version))
      return Supported::NO;
    try {
      const Version v = ParseVersion(version);
      const Version earliest = ParseVersion(EARLIEST_SUPPORTED_NAM_FILE_VERSION);
      const Version latest = ParseVersion(LATEST_FULLY_SUPPORTED_NAM_FILE_VERSION);
      if (v < earliest || v.major != latest.major || v.minor > latest.minor)
        return Supported::NO;
      return latest < v ? Supported::PARTIAL : Supported::YES;
    } catch (const std::out_of_range&) {
      return Supported::NO; // a component too large for an int
    }
  }
};

struct VersionCheckers {
  std::mutex mutex;
  std::vector<std::shared_ptr<const IVersionSupportChecker>> list{std::make_shared<CoreVersionSupport>()};
};

VersionCheckers& version_checkers() {
  static VersionCheckers checkers;
  return checkers;
}

} // namespace

void register_version_support_checker(std::shared_ptr<const IVersionSupportChecker> checker) {
  if (checker == nullptr)
    throw std::invalid_argument("version support checker cannot be null");
  VersionCheckers& checkers = version_checkers();
  std::lock_guard<std::mutex> lock(checkers.mutex);
  checkers.list.push_back(std::move(checker));
}

Supported is_version_supported(const std::string version) {
  VersionCheckers& checkers = version_checkers();
  std::lock_guard<std::mutex> lock(checkers.mutex);
  Supported best = Supported::NO;
  for (const auto& checker : checkers.list)
    best = std::max(best, checker->support(version));
  return best;
}

void verify_config_version(const std::string versionStr) {
  switch (is_version_supported(versionStr)) {
  case Supported::NO:
    throw std::runtime_error("Model config is an unsupported version " + versionStr +
                             ". This library loads .nam " + "versions " +
                             EARLIEST_SUPPORTED_NAM_FILE_VERSION + " to " +
                             LATEST_FULLY_SUPPORTED_NAM_FILE_VERSION.substr(0, 3) + ".x.");
  case Supported::PARTIAL:
    std::cerr << "Model config is a partially-supported version " << versionStr
              << ". Continuing with partial support." << std::endl;
    break;
  case Supported::YES:
    break;
  }
}

// Registry ==============================================================================================

ConfigParserRegistry::ConfigParserRegistry() {
  container::register_architecture(*this);
  convnet::register_architecture(*this);
  linear::register_architecture(*this);
  lstm::register_architecture(*this);
  wavenet::register_architecture(*this);
}

ConfigParserRegistry& ConfigParserRegistry::instance() {
  static ConfigParserRegistry registry;
  return registry;
}

void ConfigParserRegistry::registerParser(const std::string& name, ConfigParserFunction func) {
  if (!_parsers.emplace(name, std::move(func)).second)
    throw std::runtime_error("Config parser already registered for: " + name);
}

bool ConfigParserRegistry::has(const std::string& name) const {
  return _parsers.count(name) != 0;
}

std::vector<std::string> ConfigParserRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : _parsers)
    out.push_back(entry.first);
  return out;
}

std::unique_ptr<ModelConfig>
ConfigParserRegistry::parse(const std::string& name, const nlohmann::json& config, double sampleRate) const {
  const auto it = _parsers.find(name);
  if (it == _parsers.end()) {
    std::string known;
    for (const auto& entry : _parsers)
      known += (known.empty() ? "" : ", ") + entry.first;
    throw std::runtime_error("No config parser registered for architecture: " + name +
                             " (this build knows: " + known + ")");
  }
  return it->second(config, sampleRate);
}

ConfigParserHelper::ConfigParserHelper(const std::string& name, ConfigParserFunction func) {
  ConfigParserRegistry::instance().registerParser(name, std::move(func));
}

std::unique_ptr<ModelConfig> parse_model_config_json(const std::string& architecture,
                                                     const nlohmann::json& config, double sample_rate) {
  return ConfigParserRegistry::instance().parse(architecture, config, sample_rate);
}

std::unique_ptr<DSP> create_dsp(std::unique_ptr<ModelConfig> config, std::vector<float> weights,
                                const ModelMetadata& metadata) {
  if (config == nullptr)
    throw std::runtime_error("create_dsp: no model config");
  std::unique_ptr<DSP> dsp = config->create(std::move(weights), metadata.sample_rate);
  if (dsp == nullptr)
    throw std::runtime_error("create_dsp: the architecture built no model");
  if (metadata.loudness)
    dsp->SetLoudness(*metadata.loudness);
  if (metadata.input_level)
    dsp->SetInputLevel(*metadata.input_level);
  if (metadata.output_level)
    dsp->SetOutputLevel(*metadata.output_level);
  return dsp;
}

// Loading ===============================================================================================

namespace {

std::optional<double> read_level(const nlohmann::json& metadata, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null())
    return std::nullopt;
  return json_to_number(*it, std::string("metadata.") + key);
}

ModelMetadata read_metadata(const dspData& conf) {
  ModelMetadata metadata;
  metadata.version = conf.version;
  metadata.sample_rate = conf.expected_sample_rate;
  // Only an object carries levels; a missing, null or other metadata value means "nothing known".
  if (conf.metadata.is_object()) {
    metadata.loudness = read_level(conf.metadata, "loudness");
    metadata.input_level = read_level(conf.metadata, "input_level_dbu");
    metadata.output_level = read_level(conf.metadata, "output_level_dbu");
  }
  return metadata;
}

std::unique_ptr<DSP> build(dspData& conf) {
  verify_config_version(conf.version);
  const ModelMetadata metadata = read_metadata(conf);
  auto config =
      ConfigParserRegistry::instance().parse(conf.architecture, conf.config, conf.expected_sample_rate);
  return create_dsp(std::move(config), std::move(conf.weights), metadata);
}

std::unique_ptr<DSP> build_with_options(dspData& conf, const DspLoadOptions& options) {
  if (!options.prewarm)
    return build(conf);
  const ScopedPrewarmOnResetDefault scope(*options.prewarm);
  std::unique_ptr<DSP> dsp = build(conf);
  dsp->SetPrewarmOnReset(scope.PreviousPrewarmOnReset());
  return dsp;
}

// Every load error reaches the caller as a std::runtime_error: plugins catch that type, and a JSON-library
// or std::logic_error exception from a third-party parser would otherwise escape them.
template <class Load>
std::unique_ptr<DSP> load_reporting(const std::string& prefix, Load&& load) {
  try {
    return load();
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::runtime_error& e) {
    if (prefix.empty())
      throw;
    throw std::runtime_error(prefix + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

} // namespace

std::unique_ptr<DSP> get_dsp(const std::filesystem::path config_filename, DspLoadOptions options) {
  dspData contents;
  return get_dsp(config_filename, contents, options);
}

std::unique_ptr<DSP> get_dsp(const std::filesystem::path config_filename, dspData& returnedConfig,
                             DspLoadOptions options) {
  const nlohmann::json root = validate_nam_file(config_filename);
  try {
    return load_reporting("", [&] {
      read_nam_object(root, returnedConfig, "");
      dspData working = returnedConfig; // the caller keeps the weights
      return build_with_options(working, options);
    });
  } catch (const std::runtime_error& e) {
    throw NamFileValidationError("Invalid .nam file [" + config_filename.string() + "]: " + e.what());
  }
}

std::unique_ptr<DSP> get_dsp(dspData& conf, DspLoadOptions options) {
  return load_reporting("", [&] { return build_with_options(conf, options); });
}

std::unique_ptr<DSP> get_dsp(const nlohmann::json& config, DspLoadOptions options) {
  dspData contents;
  return get_dsp(config, contents, options);
}

std::unique_ptr<DSP> get_dsp(const nlohmann::json& config, dspData& returnedConfig, DspLoadOptions options) {
  return load_reporting("", [&] {
    read_nam_object(config, returnedConfig, "");
    dspData working = returnedConfig;
    return build_with_options(working, options);
  });
}

std::unique_ptr<DSP> load_nested_model(const nlohmann::json& model, const std::string& where) {
  return load_reporting(where + ": ", [&] {
    dspData contents;
    read_nam_object(model, contents, "");
    return build(contents);
  });
}

double get_sample_rate_from_nam_file(const nlohmann::json& j) {
  const auto it = j.find("sample_rate");
  if (it == j.end() || it->is_null())
    return NAM_UNKNOWN_EXPECTED_SAMPLE_RATE;
  return json_to_number(*it, "sample_rate");
}

} // namespace nam
