#pragma once
/// \file slimmable.h
/// \brief SlimmableWavenet: a WaveNet whose layer arrays can run with fewer channels.

#include <memory>

#include "../json.h"
#include "../model_config.h"

namespace nam {
namespace wavenet {
namespace slimmable {

/// \brief True when some layer array has a `slimmable` object (such configs are built as SlimmableWavenet).
bool is_slimmable_config(const nlohmann::json& config);

/// \brief Parses a slimmable WaveNet config.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

} // namespace slimmable
} // namespace wavenet
} // namespace nam
