#pragma once
// In-memory LSTM, ConvNet and SlimmableContainer models with seeded random weights, and helpers to render
// them, shared by test_lstm.cpp, test_convnet.cpp and test_container.cpp.

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "NAM/dsp.h"
#include "NAM/json.h"

namespace nam_test {

/// `count` weights drawn uniformly from [-scale, scale] with a fixed seed.
inline std::vector<float> random_weights(const size_t count, const unsigned seed, const float scale = 0.5f) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(-scale, scale);
  std::vector<float> weights(count);
  for (float& w : weights)
    w = distribution(generator);
  return weights;
}

/// A complete `.nam` object around an architecture config and weights.
inline nlohmann::json nam_object(const std::string& architecture, const nlohmann::json& config,
                                 const std::vector<float>& weights, const double sample_rate = 48000.0) {
  nlohmann::json object = {{"version", "0.5.4"},
                           {"architecture", architecture},
                           {"config", config},
                           {"weights", weights},
                           {"metadata", nlohmann::json::object()}};
  if (sample_rate > 0.0)
    object["sample_rate"] = sample_rate;
  return object;
}

/// Sizes of an LSTM model.
struct LstmShape {
  int num_layers = 1;
  int input_size = 1;
  int hidden_size = 8;
  int out_channels = 1;

  /// Number of weights the file holds for this shape.
  size_t weight_count() const {
    size_t total = static_cast<size_t>(out_channels) * hidden_size + out_channels;
    for (int l = 0; l < num_layers; ++l) {
      const size_t input = l == 0 ? input_size : hidden_size;
      total += 4 * hidden_size * (input + hidden_size) + 6 * static_cast<size_t>(hidden_size);
    }
    return total;
  }
  nlohmann::json config() const {
    nlohmann::json c = {{"num_layers", num_layers}, {"input_size", input_size}, {"hidden_size", hidden_size}};
    if (input_size != 1)
      c["in_channels"] = input_size;
    if (out_channels != 1)
      c["out_channels"] = out_channels;
    return c;
  }
};

/// An LSTM `.nam` object with the given weights (see LstmShape::weight_count).
inline nlohmann::json lstm_model(const LstmShape& shape, const std::vector<float>& weights,
                                 const double sample_rate = 48000.0) {
  return nam_object("LSTM", shape.config(), weights, sample_rate);
}

/// An LSTM `.nam` object with seeded random weights.
inline nlohmann::json lstm_model(const LstmShape& shape, const unsigned seed) {
  return lstm_model(shape, random_weights(shape.weight_count(), seed));
}

/// One `{max_value, model}` entry of a SlimmableContainer.
inline nlohmann::json submodel(const double max_value, const nlohmann::json& model) {
  return {{"max_value", max_value}, {"model", model}};
}

/// A SlimmableContainer `.nam` object with these `submodel()` entries.
inline nlohmann::json container_model(const std::vector<nlohmann::json>& submodels,
                                      const double sample_rate = 48000.0) {
  return nam_object("SlimmableContainer", {{"submodels", nlohmann::json(submodels)}}, {}, sample_rate);
}

/// `frames` samples of a deterministic test signal: noise, a tone and a few loud peaks.
inline std::vector<double> test_signal(const size_t frames, const unsigned seed = 7) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> noise(-0.5, 0.5);
  std::vector<double> x(frames);
  for (size_t t = 0; t < frames; ++t)
    x[t] = noise(generator) + 0.4 * std::sin(0.03 * static_cast<double>(t)) + (t % 997 == 0 ? 2.0 : 0.0);
  return x;
}

/// Runs `model` over `input` (the same signal on every input channel) in blocks of `block` frames, without
/// resetting it. Returns the outputs channel after channel.
inline std::vector<double> run_blocks(nam::DSP& model, const std::vector<double>& input, const int block) {
  const int in_channels = model.NumInputChannels();
  const int out_channels = model.NumOutputChannels();
  const size_t frames = input.size();
  std::vector<std::vector<NAM_SAMPLE>> in(in_channels, std::vector<NAM_SAMPLE>(block));
  std::vector<std::vector<NAM_SAMPLE>> out(out_channels, std::vector<NAM_SAMPLE>(block));
  std::vector<NAM_SAMPLE*> in_pointers, out_pointers;
  for (auto& channel : in)
    in_pointers.push_back(channel.data());
  for (auto& channel : out)
    out_pointers.push_back(channel.data());
  std::vector<double> result(frames * out_channels);
  for (size_t start = 0; start < frames; start += block) {
    const int n = static_cast<int>(std::min<size_t>(block, frames - start));
    for (auto& channel : in)
      for (int i = 0; i < n; ++i)
        channel[i] = static_cast<NAM_SAMPLE>(input[start + i]);
    model.process(in_pointers.data(), out_pointers.data(), n);
    for (int c = 0; c < out_channels; ++c)
      for (int i = 0; i < n; ++i)
        result[c * frames + start + i] = out[c][i];
  }
  return result;
}

/// max |a - b| (infinity for different lengths or a non-finite difference).
inline double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    if (!std::isfinite(d))
      return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

} // namespace nam_test
