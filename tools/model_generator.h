#pragma once
// The generator behind tools/make_models and example_models/: the trainer's A1 WaveNet and LSTM presets
// and a grouped WaveNet in the newest file format, filled with seeded pseudo-random weights. Everything
// (the random numbers and the JSON text) is computed without the standard library's distributions or
// float printing, so the files come out byte-identical on every run, compiler and platform.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "NAM/json.h"

namespace nam_tools {

/// One generated `.nam` file.
struct GeneratedModel {
  std::string file_name;   ///< e.g. "a1-standard.nam"
  std::string description; ///< one line: what the model is
  std::size_t weight_count = 0;
  std::string text; ///< the complete file contents
};

/// The file names of the example models, in generation order (cheap: nothing is generated).
std::vector<std::string> example_model_names();

/// Generates every example model, in the order of `example_model_names()`.
std::vector<GeneratedModel> generate_example_models();

/// Writes each model as `<directory>/<file_name>`, creating the directory if needed. Throws
/// std::runtime_error naming the file when something cannot be written.
void write_example_models(const std::vector<GeneratedModel>& models, const std::filesystem::path& directory);

/// The number of weights a `"WaveNet"` config consumes, counted tensor by tensor in the loader's order
/// (layer arrays with their layers, FiLMs and head rechannels, then the post-stack head, then the head
/// scale). Throws std::runtime_error for a config it cannot count (e.g. groups that do not divide).
std::size_t count_wavenet_weights(const nlohmann::json& config);

/// The number of weights an `"LSTM"` config consumes (cells, then the output head).
std::size_t count_lstm_weights(const nlohmann::json& config);

/// Serialises a `.nam` document with a fixed layout. Non-integer numbers are written with at most six
/// decimals by integer arithmetic (not printf), so the text does not depend on the C library.
std::string to_nam_text(const nlohmann::ordered_json& document);

} // namespace nam_tools
