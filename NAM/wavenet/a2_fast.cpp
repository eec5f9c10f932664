#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "a2_fast.h"
#include "model.h"

namespace nam {
namespace wavenet {
namespace a2_fast {

namespace {

constexpr int kLayers = 23;
constexpr std::array<int, kLayers> kKernelSizes = {6, 6, 6,  6,  6, 6, 6, 6, 6, 6, 6, 6,
                                                   6, 6, 15, 15, 6, 6, 6, 6, 6, 6, 6};
constexpr std::array<int, kLayers> kDilations = {1,   3,   7, 17, 41, 101, 239, 1,  3,  7,   17, 41,
                                                 101, 239, 1, 13, 1,  3,   7,   17, 41, 101, 239};
constexpr int kHeadKernelSize = 16;
constexpr double kLeakySlope = 0.01;
constexpr double kSlopeTolerance = 1e-7;

bool is_null_or_absent(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null();
}

// A number member, or `fallback` when absent or not a number (which then fails the comparisons below).
double number_or(const nlohmann::json& object, const char* key, const double fallback) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

bool bool_or(const nlohmann::json& object, const char* key, const bool fallback) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

template <size_t N>
bool equals_int_list(const nlohmann::json& object, const char* key, const std::array<int, N>& expected) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array() || it->size() != N)
    return false;
  for (size_t i = 0; i < N; ++i)
    if (!(*it)[i].is_number_integer() || (*it)[i].get<long long>() != expected[i])
      return false;
  return true;
}

bool all_leaky_relu(const nlohmann::json& layer_array) {
  const auto it = layer_array.find("activation");
  if (it == layer_array.end() || !it->is_array() || it->size() != kLayers)
    return false;
  for (const auto& activation : *it) {
    if (!activation.is_object())
      return false;
    const auto type = activation.find("type");
    if (type == activation.end() || !type->is_string() || type->get<std::string>() != "LeakyReLU")
      return false;
    if (std::abs(number_or(activation, "negative_slope", 0.0) - kLeakySlope) > kSlopeTolerance)
      return false;
  }
  return true;
}

bool no_gating(const nlohmann::json& layer_array) {
  const auto modes = layer_array.find("gating_mode");
  if (modes != layer_array.end() && !modes->is_null()) {
    if (!modes->is_array() || modes->size() != kLayers)
      return false;
    for (const auto& mode : *modes)
      if (!mode.is_string() || mode.get<std::string>() != "none")
        return false;
  }
  const auto gated = layer_array.find("gated");
  if (gated != layer_array.end() && gated->is_boolean() && gated->get<bool>())
    return false;
  const auto secondary = layer_array.find("secondary_activation");
  if (secondary != layer_array.end() && !secondary->is_null()) {
    if (!secondary->is_array() || secondary->size() != kLayers)
      return false;
    for (const auto& entry : *secondary)
      if (!entry.is_null())
        return false;
  }
  return true;
}

// Unlike the generic parser, the A2 detector treats a FiLM object without "active" as inactive.
bool films_inactive(const nlohmann::json& layer_array) {
  for (const char* key : kFilmConfigKeys) {
    const auto it = layer_array.find(key);
    if (it == layer_array.end() || it->is_null() || (it->is_boolean() && !it->get<bool>()))
      continue;
    if (!it->is_object() || bool_or(*it, "active", false))
      return false;
  }
  return true;
}

bool head_matches(const nlohmann::json& layer_array) {
  const auto head = layer_array.find("head");
  return head != layer_array.end() && head->is_object() && number_or(*head, "out_channels", 0) == 1 &&
         number_or(*head, "kernel_size", 0) == kHeadKernelSize && number_or(*head, "head_dilation", 1) == 1 &&
         bool_or(*head, "bias", false);
}

bool one_by_ones_match(const nlohmann::json& layer_array) {
  const auto head1x1 = layer_array.find("head1x1");
  if (head1x1 != layer_array.end() && head1x1->is_object() && bool_or(*head1x1, "active", false))
    return false;
  const auto layer1x1 = layer_array.find("layer1x1");
  return layer1x1 != layer_array.end() && layer1x1->is_object() && bool_or(*layer1x1, "active", false) &&
         number_or(*layer1x1, "groups", 1) == 1;
}

// The A2 model's weight-count errors (its wording, including "bytes" for a count of floats).
class A2Config : public WaveNetConfig {
public:
  explicit A2Config(WaveNetConfig&& parsed) : WaveNetConfig(std::move(parsed)) {}

  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override {
    const long long expected = WaveNet::count_weights(layer_array_params, head_params);
    const long long provided = static_cast<long long>(weights.size());
    if (provided < expected)
      throw std::runtime_error("A2FastModel: weight stream exhausted");
    if (provided > expected)
      throw std::runtime_error("A2FastModel: weight stream has " + std::to_string(provided - expected) +
                               " trailing bytes");
    return WaveNetConfig::create(std::move(weights), sampleRate);
  }
};

} // namespace

bool is_a2_shape(const nlohmann::json& config, int* channels) {
  if (!config.is_object())
    return false;
  const auto layers = config.find("layers");
  if (layers == config.end() || !layers->is_array() || layers->size() != 1)
    return false;
  if (!is_null_or_absent(config, "head") || !is_null_or_absent(config, "condition_dsp"))
    return false;
  const auto head_scale = config.find("head_scale");
  if (head_scale == config.end() || !head_scale->is_number())
    return false;
  if (config.contains("in_channels") && number_or(config, "in_channels", 0) != 1)
    return false;
  const nlohmann::json& la = (*layers)[0];
  if (!la.is_object())
    return false;
  if (number_or(la, "input_size", 0) != 1 || number_or(la, "condition_size", 0) != 1)
    return false;
  const double width = number_or(la, "channels", 0);
  if (number_or(la, "bottleneck", 0) != width || (width != 3 && width != 8))
    return false;
  if (!equals_int_list(la, "kernel_sizes", kKernelSizes) || !equals_int_list(la, "dilations", kDilations))
    return false;
  if (!all_leaky_relu(la) || !no_gating(la) || !head_matches(la) || !one_by_ones_match(la) ||
      !films_inactive(la))
    return false;
  if (number_or(la, "groups_input", 1) != 1 || number_or(la, "groups_input_mixin", 1) != 1)
    return false;
  if (!is_null_or_absent(la, "slimmable"))
    return false;
  if (channels != nullptr)
    *channels = static_cast<int>(width);
  return true;
}

std::unique_ptr<ModelConfig> create_a2_fast_config(const nlohmann::json& config, const double sampleRate) {
  // The FiLM keys are all inactive for this shape; dropping them keeps the generic parser from reading an
  // object without "active" as an active FiLM.
  nlohmann::json without_films = config;
  for (const char* key : kFilmConfigKeys)
    without_films["layers"][0].erase(key);
  return std::make_unique<A2Config>(parse_config_json(without_films, sampleRate));
}

} // namespace a2_fast
} // namespace wavenet
} // namespace nam
