#pragma once
// What both fuzz targets do with a model that loaded: prepare it and run audio through it, checking that
// nothing crashes and that a model whose weights and gains are moderate never produces NaN from finite input.

#include <cstdint>
#include <string>
#include <vector>

#include "NAM/json.h"

namespace nam_fuzz {

/// Loads `model` with nam::get_dsp; load errors (std::exception) are expected and ignored. A model that
/// loads is Reset and run on a few blocks of varied sizes; a NaN output aborts when every weight,
/// head_scale and activation parameter in the file is within [-1, 1].
void load_and_run(const nlohmann::json& model, uint64_t variation);

/// Every `.nam` file (up to `max_bytes`) in the directories listed in NAM_FUZZ_MODEL_DIRS (colon-separated;
/// the environment variable of that name overrides the built-in list), parsed.
std::vector<nlohmann::json> seed_models(size_t max_bytes);

} // namespace nam_fuzz
