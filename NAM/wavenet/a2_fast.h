#pragma once
/// \file a2_fast.h
/// \brief Recognition of the two "A2" WaveNet shapes (3 or 8 channels, 23 layers).
///
/// The original library routes these configs to a hand-specialised model that differs from the generic
/// WaveNet in observable ways: FiLM objects without `"active"` count as inactive, and weight-count errors are
/// worded differently. This library computes them with the generic WaveNet and reproduces those differences.

#include <memory>

#include "../json.h"
#include "../model_config.h"

namespace nam {
namespace wavenet {
namespace a2_fast {

/// \brief True when `config` has exactly the A2 shape; `channels` (if not null) receives 3 or 8.
bool is_a2_shape(const nlohmann::json& config, int* channels);

/// \brief Parses an A2-shaped config (see is_a2_shape).
std::unique_ptr<ModelConfig> create_a2_fast_config(const nlohmann::json& config, double sampleRate);

} // namespace a2_fast
} // namespace wavenet
} // namespace nam
