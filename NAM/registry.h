#pragma once
/// \file registry.h
/// \brief Registering an architecture with a single factory function (the older extension API).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dsp.h"

namespace nam {
namespace factory {

/// \brief Builds a model from its config, its weights and the file's sample rate.
using FactoryFunction =
    std::function<std::unique_ptr<DSP>(const nlohmann::json&, std::vector<float>&, const double)>;

/// \brief A ModelConfig that keeps the raw config and calls a factory when asked to build. The sample rate
/// seen when the config was parsed is the one passed to the factory.
class FactoryConfig : public ModelConfig {
public:
  /// \brief Keeps `factory`, `config` and the file's `sampleRate` for create().
  FactoryConfig(FactoryFunction factory, nlohmann::json config, double sampleRate) :
      _factory(std::move(factory)),
      _config(std::move(config)),
      _sample_rate(sampleRate) {}

  std::unique_ptr<DSP> create(std::vector<float> weights, double /*sampleRate*/) override {
    return _factory(_config, weights, _sample_rate);
  }

private:
  FactoryFunction _factory;
  nlohmann::json _config;
  double _sample_rate;
};

/// \brief Registers `factory` under `name` when constructed (declare one as a static object).
struct Helper {
  /// \brief Registers `factory` under `name`; throws std::runtime_error if the name is taken.
  Helper(const std::string& name, FactoryFunction factory) {
    ConfigParserRegistry::instance().registerParser(
        name, [make = std::move(factory)](const nlohmann::json& config, double sampleRate) {
          return std::unique_ptr<ModelConfig>(std::make_unique<FactoryConfig>(make, config, sampleRate));
        });
  }
};

} // namespace factory
} // namespace nam
