#include "model_generator.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace nam_tools {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------------
// Random numbers. splitmix64 is fully specified by its integer arithmetic, and the conversion to a
// double in [0, 1) is exact, so the sequence is the same everywhere (std::uniform_real_distribution is not).

class SplitMix64 {
public:
  explicit SplitMix64(std::uint64_t seed) : _state(seed) {}

  std::uint64_t next() {
    _state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = _state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Uniform in [-limit, limit).
  double symmetric(double limit) {
    const double unit = static_cast<double>(next() >> 11) * 0x1.0p-53; // 53 random bits, exact
    return limit * (2.0 * unit - 1.0);
  }

private:
  std::uint64_t _state;
};

/// FNV-1a of the file name: each model gets its own stream, independent of the order of the list.
std::uint64_t seed_for(std::string_view name) {
  std::uint64_t hash = 0xCBF29CE484222325ull;
  for (const char ch : name) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 0x100000001B3ull;
  }
  return hash;
}

// ---------------------------------------------------------------------------------------------------
// Fixed-point decimals: every non-integer number in a generated file is a whole number of millionths,
// written with integer arithmetic.

constexpr double kMillionths = 1e6;

double quantize(double value) {
  return static_cast<double>(std::llround(value * kMillionths)) / kMillionths;
}

std::string format_decimal(double value) {
  const long long millionths = std::llround(value * kMillionths);
  const unsigned long long magnitude =
      millionths < 0 ? 0ull - static_cast<unsigned long long>(millionths) : millionths;
  std::string text = millionths < 0 ? "-" : "";
  text += std::to_string(magnitude / 1000000ull);
  if (const unsigned long long fraction = magnitude % 1000000ull; fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, 6 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    text += "." + digits;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------
// Weight layout: the tensors of a config in the order the loader consumes them. The same list gives the
// weight count and, with each tensor's fan-in, the scale of its random values.

enum class Role { kWeight, kBias, kInitialState, kHeadScale };

struct Tensor {
  std::size_t count = 0;
  std::size_t fan_in = 1;
  Role role = Role::kWeight;
};

class WeightLayout {
public:
  /// A (grouped, dilated) convolution or 1x1 map `in -> out`: weight (out, in/groups, kernel), then bias.
  void conv(int out, int in, int groups, int kernel, bool bias) {
    if (out <= 0 || in <= 0 || groups <= 0 || kernel <= 0 || in % groups != 0 || out % groups != 0)
      throw std::runtime_error("cannot lay out a convolution " + std::to_string(in) + " -> " +
                               std::to_string(out) + " with groups " + std::to_string(groups) +
                               " and kernel " + std::to_string(kernel));
    const std::size_t fan_in = static_cast<std::size_t>(in / groups) * kernel;
    _tensors.push_back({static_cast<std::size_t>(out) * fan_in, fan_in, Role::kWeight});
    if (bias)
      _tensors.push_back({static_cast<std::size_t>(out), fan_in, Role::kBias});
  }
  void initial_state(int size) {
    _tensors.push_back({static_cast<std::size_t>(size), 1, Role::kInitialState});
  }
  void head_scale() { _tensors.push_back({1, 1, Role::kHeadScale}); }

  const std::vector<Tensor>& tensors() const { return _tensors; }
  std::size_t total() const {
    std::size_t sum = 0;
    for (const Tensor& t : _tensors)
      sum += t.count;
    return sum;
  }

private:
  std::vector<Tensor> _tensors;
};

int int_member(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number())
    throw std::runtime_error(std::string("config: expected a number at '") + key + "'");
  return it->get<int>();
}

int int_member_or(const json& object, const char* key, int fallback) {
  return object.contains(key) ? int_member(object, key) : fallback;
}

bool bool_member_or(const json& object, const char* key, bool fallback) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? fallback : it->get<bool>();
}

std::vector<int> kernel_sizes_of(const json& array, std::size_t layers) {
  if (array.contains("kernel_sizes"))
    return array.at("kernel_sizes").get<std::vector<int>>();
  return std::vector<int>(layers, int_member(array, "kernel_size"));
}

/// Per layer: whether the conv and mixin produce 2 x bottleneck rows (gated or blended layers).
std::vector<bool> doubled_layers_of(const json& array, std::size_t layers) {
  const auto mode = array.find("gating_mode");
  if (mode == array.end() || mode->is_null())
    return std::vector<bool>(layers, bool_member_or(array, "gated", false));
  if (mode->is_string())
    return std::vector<bool>(layers, mode->get<std::string>() != "none");
  std::vector<bool> doubled;
  for (const json& entry : *mode)
    doubled.push_back(entry.get<std::string>() != "none");
  return doubled;
}

struct FilmSpec {
  bool active = false;
  bool shift = true;
  int groups = 1;
};

/// A FiLM key as the WaveNet parser reads it: absent or false = off; an object is on unless it says not.
FilmSpec film_of(const json& array, const char* key) {
  const auto it = array.find(key);
  if (it == array.end() || !it->is_object())
    return {};
  return {it->value("active", true), it->value("shift", true), it->value("groups", 1)};
}

/// The FiLM keys in consumption order.
constexpr const char* kFilmKeys[] = {"conv_pre_film",         "conv_post_film",      "input_mixin_pre_film",
                                     "input_mixin_post_film", "activation_pre_film", "activation_post_film",
                                     "layer1x1_post_film",    "head1x1_post_film"};

/// Lays out one layer array; returns the width of its head output.
int lay_out_layer_array(const json& array, WeightLayout& layout) {
  const int input_size = int_member(array, "input_size");
  const int condition_size = int_member(array, "condition_size");
  const int channels = int_member(array, "channels");
  const int bottleneck = int_member_or(array, "bottleneck", channels);
  const std::size_t layers = array.at("dilations").size();
  const std::vector<int> kernel_sizes = kernel_sizes_of(array, layers);
  const std::vector<bool> doubled = doubled_layers_of(array, layers);
  if (kernel_sizes.size() != layers || doubled.size() != layers)
    throw std::runtime_error("config: per-layer lists must match the number of dilations");

  const json layer1x1 = array.value("layer1x1", json{{"active", true}, {"groups", 1}});
  const json head1x1 = array.value("head1x1", json{{"active", false}});
  const bool head1x1_active = head1x1.value("active", false);
  const int head1x1_width = head1x1_active ? int_member(head1x1, "out_channels") : 0;

  layout.conv(channels, input_size, 1, 1, false); // rechannel
  for (std::size_t l = 0; l < layers; ++l) {
    const int z = doubled[l] ? 2 * bottleneck : bottleneck;
    layout.conv(z, channels, int_member_or(array, "groups_input", 1), kernel_sizes[l], true);
    layout.conv(z, condition_size, int_member_or(array, "groups_input_mixin", 1), 1, false);
    if (layer1x1.value("active", true))
      layout.conv(channels, bottleneck, layer1x1.value("groups", 1), 1, true);
    if (head1x1_active)
      layout.conv(head1x1_width, bottleneck, int_member(head1x1, "groups"), 1, true);
    // Widths the FiLMs modulate, in the order of kFilmKeys.
    const int modulated[] = {channels, z, condition_size, z, z, bottleneck, channels, head1x1_width};
    for (std::size_t f = 0; f < std::size(kFilmKeys); ++f)
      if (const FilmSpec film = film_of(array, kFilmKeys[f]); film.active)
        layout.conv((film.shift ? 2 : 1) * modulated[f], condition_size, film.groups, 1, true);
  }

  const int head_input = head1x1_active ? head1x1_width : bottleneck;
  const auto head = array.find("head");
  if (head != array.end() && head->is_object()) {
    const int out = int_member(*head, "out_channels");
    layout.conv(out, head_input, 1, int_member(*head, "kernel_size"), head->at("bias").get<bool>());
    return out;
  }
  const int out = int_member(array, "head_size");
  layout.conv(out, head_input, 1, 1, array.at("head_bias").get<bool>());
  return out;
}

WeightLayout wavenet_layout(const json& config) {
  WeightLayout layout;
  int head_width = 0;
  for (const json& array : config.at("layers"))
    head_width = lay_out_layer_array(array, layout);
  if (const auto head = config.find("head"); head != config.end() && !head->is_null()) {
    const std::vector<int> kernel_sizes = head->at("kernel_sizes").get<std::vector<int>>();
    for (std::size_t i = 0; i < kernel_sizes.size(); ++i) {
      const bool last = i + 1 == kernel_sizes.size();
      const int out = int_member(*head, last ? "out_channels" : "channels");
      layout.conv(out, head_width, 1, kernel_sizes[i], true);
      head_width = out;
    }
  }
  layout.head_scale();
  return layout;
}

WeightLayout lstm_layout(const json& config) {
  WeightLayout layout;
  const int hidden = int_member(config, "hidden_size");
  const int layers = int_member(config, "num_layers");
  for (int l = 0; l < layers; ++l) {
    const int cell_input = l == 0 ? int_member(config, "input_size") : hidden;
    layout.conv(4 * hidden, cell_input + hidden, 1, 1, true); // gates i, f, g, o over [input; hidden]
    layout.initial_state(hidden);                             // h0
    layout.initial_state(hidden);                             // c0
  }
  layout.conv(int_member_or(config, "out_channels", 1), hidden, 1, 1, true); // output head
  return layout;
}

// ---------------------------------------------------------------------------------------------------
// Weight values. Weights are uniform in +/- kWeightGain/sqrt(fan_in). PyTorch's default range (gain 1)
// shrinks the signal at every layer and leaves the outputs near -40 dBFS; gain 2.5, checked by rendering
// the models, drives the Tanh and LSTM nonlinearities into mild saturation and gives output peaks of
// about 0.05-0.65 for full-scale guitar input, like a trained model. Biases and initial states stay
// small so nothing starts saturated or with a large DC offset.

constexpr double kWeightGain = 2.5;
constexpr double kBiasGain = 0.1;
constexpr double kInitialStateRange = 0.1;

std::vector<double> random_weights(const WeightLayout& layout, double head_scale, std::uint64_t seed) {
  SplitMix64 random(seed);
  std::vector<double> weights;
  weights.reserve(layout.total());
  for (const Tensor& tensor : layout.tensors()) {
    const double range = 1.0 / std::sqrt(static_cast<double>(tensor.fan_in));
    for (std::size_t i = 0; i < tensor.count; ++i) {
      switch (tensor.role) {
      case Role::kWeight:
        weights.push_back(quantize(random.symmetric(kWeightGain * range)));
        break;
      case Role::kBias:
        weights.push_back(quantize(random.symmetric(kBiasGain * range)));
        break;
      case Role::kInitialState:
        weights.push_back(quantize(random.symmetric(kInitialStateRange)));
        break;
      case Role::kHeadScale:
        weights.push_back(quantize(head_scale));
        break;
      }
    }
  }
  return weights;
}

// ---------------------------------------------------------------------------------------------------
// The models.

constexpr double kA1HeadScale = 0.02;

std::vector<int> powers_of_two(int first, int last) {
  std::vector<int> values;
  for (int d = first; d <= last; d *= 2)
    values.push_back(d);
  return values;
}

std::vector<int> concatenated(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A trainer A1 preset in the classic layout (`head_size` / `head_bias`): two arrays, the second with
/// half the channels, Tanh, kernel 3, no gating.
ordered_json a1_config(int channels, const std::vector<int>& dilations0, const std::vector<int>& dilations1) {
  const auto layer_array = [](int input_size, int width, int head_size, bool head_bias,
                              const std::vector<int>& dilations) {
    return ordered_json{{"input_size", input_size}, {"condition_size", 1}, {"head_size", head_size},
                        {"channels", width},        {"kernel_size", 3},    {"dilations", dilations},
                        {"activation", "Tanh"},     {"gated", false},      {"head_bias", head_bias}};
  };
  return ordered_json{{"layers",
                       {layer_array(1, channels, channels / 2, false, dilations0),
                        layer_array(channels, channels / 2, 1, true, dilations1)}},
                      {"head", nullptr},
                      {"head_scale", kA1HeadScale}};
}

/// Preset dilations: standard has 1..512 in each array; lite, feather and nano split them as
/// 1..64 in the first array and 128..512, 1..512 in the second.
std::vector<int> a1_dilations() {
  return powers_of_two(1, 512);
}
std::vector<int> a1_short_dilations() {
  return powers_of_two(1, 64);
}
std::vector<int> a1_long_dilations() {
  return concatenated(powers_of_two(128, 512), powers_of_two(1, 512));
}

ordered_json lstm_config(int layers, int hidden) {
  return ordered_json{{"input_size", 1}, {"hidden_size", hidden}, {"num_layers", layers}};
}

/// One layer array in the trainer's newest export layout: every key written out, per-layer lists.
ordered_json grouped_layer_array(int input_size, int bottleneck, int head_out, bool head_bias,
                                 int groups_input, int layer1x1_groups, int head1x1_out, int head1x1_groups) {
  constexpr int kChannels = 8;
  const std::vector<int> dilations = powers_of_two(1, 512);
  const std::size_t layers = dilations.size();
  ordered_json array{
      {"input_size", input_size},
      {"condition_size", 1},
      {"head", {{"out_channels", head_out}, {"kernel_size", 1}, {"bias", head_bias}}},
      {"channels", kChannels},
      {"kernel_sizes", std::vector<int>(layers, 3)},
      {"dilations", dilations},
      {"activation", std::vector<ordered_json>(layers, ordered_json{{"type", "Tanh"}})},
      {"bottleneck", bottleneck},
      {"head1x1", {{"active", true}, {"out_channels", head1x1_out}, {"groups", head1x1_groups}}},
      {"layer1x1", {{"active", true}, {"groups", layer1x1_groups}}},
      {"groups_input", groups_input},
      {"groups_input_mixin", 1}};
  for (const char* key : kFilmKeys)
    array[key] = ordered_json{{"active", false}, {"shift", true}, {"groups", 1}};
  array["gating_mode"] = std::vector<std::string>(layers, "none");
  array["secondary_activation"] = std::vector<ordered_json>(layers, nullptr);
  array["slimmable"] = nullptr;
  return array;
}

/// Two 8-channel arrays with grouped dilated convs, layer 1x1s and head 1x1s (groups 2 and 4), the
/// second with a bottleneck of 4. The head 1x1 of array 1 outputs 8 rows so it adds onto array 0's head.
ordered_json grouped_config() {
  return ordered_json{
      {"layers",
       {grouped_layer_array(1, 8, 8, false, 2, 2, 8, 4), grouped_layer_array(8, 4, 1, true, 4, 2, 8, 4)}},
      {"head", nullptr},
      {"head_scale", kA1HeadScale}};
}

enum class Architecture { kWaveNet, kLSTM };

struct Recipe {
  const char* file_name;
  const char* description;
  const char* version;
  Architecture architecture;
  ordered_json (*config)();
};

// Version strings: the classic layout as the trainer wrote it for years (0.5.4); the newest layout as
// the current trainer writes it (0.7.0). The original accepts both without warnings.
const std::vector<Recipe>& recipes() {
  static const std::vector<Recipe> list = {
      {"a1-standard.nam", "WaveNet A1 standard preset: 16 then 8 channels, dilations 1..512 in both arrays",
       "0.5.4", Architecture::kWaveNet, [] { return a1_config(16, a1_dilations(), a1_dilations()); }},
      {"a1-lite.nam", "WaveNet A1 lite preset: 12 then 6 channels, dilations 1..64 then 128..512,1..512",
       "0.5.4", Architecture::kWaveNet,
       [] { return a1_config(12, a1_short_dilations(), a1_long_dilations()); }},
      {"a1-feather.nam", "WaveNet A1 feather preset: 8 then 4 channels, dilations 1..64 then 128..512,1..512",
       "0.5.4", Architecture::kWaveNet,
       [] { return a1_config(8, a1_short_dilations(), a1_long_dilations()); }},
      {"a1-nano.nam", "WaveNet A1 nano preset: 4 then 2 channels, dilations 1..64 then 128..512,1..512",
       "0.5.4", Architecture::kWaveNet,
       [] { return a1_config(4, a1_short_dilations(), a1_long_dilations()); }},
      {"lstm-1x24.nam", "LSTM standard preset: 1 layer, hidden size 24", "0.5.4", Architecture::kLSTM,
       [] { return lstm_config(1, 24); }},
      {"lstm-2x8.nam", "LSTM lite preset: 2 layers, hidden size 8", "0.5.4", Architecture::kLSTM,
       [] { return lstm_config(2, 8); }},
      {"lstm-1x16.nam", "LSTM feather preset: 1 layer, hidden size 16", "0.5.4", Architecture::kLSTM,
       [] { return lstm_config(1, 16); }},
      {"lstm-1x12.nam", "LSTM nano preset: 1 layer, hidden size 12", "0.5.4", Architecture::kLSTM,
       [] { return lstm_config(1, 12); }},
      {"wavenet-grouped.nam",
       "WaveNet, newest layout: 8 channels, grouped convs (groups 2/4), grouped layer and head 1x1s, "
       "bottleneck 4 in array 2",
       "0.7.0", Architecture::kWaveNet, grouped_config},
  };
  return list;
}

std::string stem_of(const std::string& file_name) {
  return file_name.substr(0, file_name.rfind('.'));
}

// Nominal calibration values: these models are not trained, so loudness and levels are plausible
// placeholders that let hosts exercise their metadata handling.
ordered_json metadata_for(const Recipe& recipe, std::uint64_t seed) {
  char seed_text[19];
  std::snprintf(seed_text, sizeof(seed_text), "0x%016llx", static_cast<unsigned long long>(seed));
  return ordered_json{{"name", stem_of(recipe.file_name)},
                      {"modeled_by", "make_models"},
                      {"loudness", -18.0},
                      {"input_level_dbu", 12.0},
                      {"output_level_dbu", 12.0},
                      {"generated_by", std::string("make_models: seeded random weights (seed ") + seed_text +
                                           "), not a trained model; loudness and levels are nominal"}};
}

GeneratedModel generate(const Recipe& recipe) {
  const std::uint64_t seed = seed_for(recipe.file_name);
  const ordered_json config = recipe.config();
  const json plain_config = json::parse(config.dump()); // the layout readers take the unordered flavour
  const bool wavenet = recipe.architecture == Architecture::kWaveNet;
  const WeightLayout layout = wavenet ? wavenet_layout(plain_config) : lstm_layout(plain_config);
  const double head_scale = wavenet ? config.at("head_scale").get<double>() : 0.0;

  ordered_json document{{"version", recipe.version},
                        {"metadata", metadata_for(recipe, seed)},
                        {"architecture", wavenet ? "WaveNet" : "LSTM"},
                        {"config", config},
                        {"sample_rate", 48000},
                        {"weights", random_weights(layout, head_scale, seed)}};
  return {recipe.file_name, recipe.description, layout.total(), to_nam_text(document)};
}

// ---------------------------------------------------------------------------------------------------
// JSON text. Small objects and short number lists stay on one line; the weights wrap at 10 per line.

constexpr std::size_t kInlineArrayLimit = 24;
constexpr std::size_t kInlineObjectLimit = 4;
constexpr std::size_t kNumbersPerLine = 10;

bool is_scalar(const ordered_json& value) {
  return !value.is_structured();
}

bool all_scalar(const ordered_json& value) {
  for (const auto& element : value)
    if (!is_scalar(element))
      return false;
  return true;
}

bool fits_one_line(const ordered_json& value) {
  if (is_scalar(value) || value.empty())
    return true;
  const std::size_t limit = value.is_array() ? kInlineArrayLimit : kInlineObjectLimit;
  return value.size() <= limit && all_scalar(value);
}

void write_scalar(std::string& out, const ordered_json& value) {
  if (value.is_number_float())
    out += format_decimal(value.get<double>());
  else
    out += value.dump(); // integers, booleans, null and escaped strings
}

void write_value(std::string& out, const ordered_json& value, int indent);

void write_one_line(std::string& out, const ordered_json& value) {
  if (is_scalar(value)) {
    write_scalar(out, value);
    return;
  }
  out += value.is_array() ? "[" : "{";
  bool first = true;
  for (const auto& [key, element] : value.items()) {
    out += first ? "" : ", ";
    first = false;
    if (value.is_object())
      out += ordered_json(key).dump() + ": ";
    write_scalar(out, element);
  }
  out += value.is_array() ? "]" : "}";
}

void write_value(std::string& out, const ordered_json& value, int indent) {
  if (fits_one_line(value)) {
    write_one_line(out, value);
    return;
  }
  const std::string inner(indent + 2, ' ');
  out += value.is_array() ? "[\n" : "{\n";
  if (value.is_array() && all_scalar(value)) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      out += i % kNumbersPerLine == 0 ? inner : " ";
      write_scalar(out, value[i]);
      if (i + 1 < value.size())
        out += ",";
      if (i % kNumbersPerLine == kNumbersPerLine - 1 || i + 1 == value.size())
        out += "\n";
    }
  } else {
    std::size_t remaining = value.size();
    for (const auto& [key, element] : value.items()) {
      out += inner;
      if (value.is_object())
        out += ordered_json(key).dump() + ": ";
      write_value(out, element, indent + 2);
      out += --remaining > 0 ? ",\n" : "\n";
    }
  }
  out += std::string(indent, ' ') + (value.is_array() ? "]" : "}");
}

} // namespace

std::vector<std::string> example_model_names() {
  std::vector<std::string> names;
  for (const Recipe& recipe : recipes())
    names.push_back(recipe.file_name);
  return names;
}

std::vector<GeneratedModel> generate_example_models() {
  std::vector<GeneratedModel> models;
  for (const Recipe& recipe : recipes())
    models.push_back(generate(recipe));
  return models;
}

void write_example_models(const std::vector<GeneratedModel>& models, const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error)
    throw std::runtime_error("cannot create directory " + directory.string() + ": " + error.message());
  for (const GeneratedModel& model : models) {
    const std::filesystem::path path = directory / model.file_name;
    std::ofstream file(path, std::ios::binary | std::ios::trunc); // binary: no newline translation
    file.write(model.text.data(), static_cast<std::streamsize>(model.text.size()));
    if (!file.flush())
      throw std::runtime_error("cannot write " + path.string());
  }
}

std::size_t count_wavenet_weights(const nlohmann::json& config) {
  return wavenet_layout(config).total();
}

std::size_t count_lstm_weights(const nlohmann::json& config) {
  return lstm_layout(config).total();
}

std::string to_nam_text(const nlohmann::ordered_json& document) {
  std::string text;
  write_value(text, document, 0);
  text += "\n";
  return text;
}

} // namespace nam_tools
