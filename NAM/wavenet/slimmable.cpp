#include "slimmable.h"

#include "model.h"

namespace nam {
namespace wavenet {
namespace slimmable {

bool is_slimmable_config(const nlohmann::json&) {
  return false;
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate) {
  return std::make_unique<WaveNetConfig>(parse_config_json(config, sampleRate));
}

} // namespace slimmable
} // namespace wavenet
} // namespace nam
