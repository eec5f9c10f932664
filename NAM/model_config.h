#pragma once
/// \file model_config.h
/// \brief The architecture registry: how the `architecture` name of a `.nam` file becomes a model.
///
/// Loading is two steps. A parser registered under the architecture name reads the `config` object into
/// a `ModelConfig` (checking every key); `ModelConfig::create` then checks the weight count and builds the
/// model. The built-in architectures (WaveNet, LSTM, ConvNet, Linear, SlimmableContainer) are registered
/// the first time the registry is used; other code adds its own with `ConfigParserHelper` or
/// `factory::Helper` (registry.h).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "json.h"

namespace nam {
class DSP;

/// \brief The parts of a `.nam` file, outside `config` and `weights`, that a model is given.
struct ModelMetadata {
  std::string version;                ///< the file's `version`
  double sample_rate = -1.0;          ///< the file's `sample_rate`, or -1 when absent
  std::optional<double> loudness;     ///< `metadata.loudness` (dB), if present
  std::optional<double> input_level;  ///< `metadata.input_level_dbu`, if present
  std::optional<double> output_level; ///< `metadata.output_level_dbu`, if present
};

/// \brief A parsed architecture config, ready to build models from a weight list.
class ModelConfig {
public:
  virtual ~ModelConfig() = default;
  /// \brief Builds the model. Throws std::runtime_error when `weights` has the wrong length.
  virtual std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) = 0;
};

/// \brief Reads an architecture's `config` object (and the file's sample rate) into a ModelConfig.
using ConfigParserFunction = std::function<std::unique_ptr<ModelConfig>(const nlohmann::json&, double)>;

/// \brief Process-wide map from architecture name to parser.
///
/// Thread safety: registration is not synchronised; register extra architectures during start-up,
/// before any thread loads models. Lookups (loading) may run on several threads at once.
class ConfigParserRegistry {
public:
  /// \brief The registry, with the built-in architectures already in it.
  static ConfigParserRegistry& instance();

  /// \brief Adds a parser. Throws std::runtime_error if the name is taken.
  void registerParser(const std::string& name, ConfigParserFunction func);
  /// \brief True when a parser is registered under `name`.
  bool has(const std::string& name) const;
  /// \brief Runs the parser registered for `name`; throws std::runtime_error naming the known
  /// architectures if there is none.
  std::unique_ptr<ModelConfig> parse(const std::string& name, const nlohmann::json& config,
                                     double sampleRate) const;
  /// \brief Registered names, sorted.
  std::vector<std::string> names() const;

private:
  ConfigParserRegistry();
  std::map<std::string, ConfigParserFunction> _parsers;
};

/// \brief Registers a parser when constructed; declare one as a static object to register at start-up.
struct ConfigParserHelper {
  /// \brief Registers `func` under `name`; throws std::runtime_error if the name is taken.
  ConfigParserHelper(const std::string& name, ConfigParserFunction func);
};

/// \brief Builds a model from a parsed config and applies the metadata (loudness and levels) to it.
std::unique_ptr<DSP> create_dsp(std::unique_ptr<ModelConfig> config, std::vector<float> weights,
                                const ModelMetadata& metadata);

/// \brief Parses `config` with the parser registered for `architecture`.
std::unique_ptr<ModelConfig> parse_model_config_json(const std::string& architecture,
                                                     const nlohmann::json& config, double sample_rate);

} // namespace nam
