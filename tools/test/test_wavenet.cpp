// WaveNet behaviour beyond the reference outputs: block-size independence, Reset, real-time safety,
// prewarm lengths, weight-count and config errors, the A2 detector and slimmable WaveNets.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/get_dsp.h"
#include "NAM/resource_limits.h"
#include "NAM/slimmable.h"
#include "NAM/wavenet/a2_fast.h"
#include "NAM/wavenet/model.h"
#include "allocation_tracking.h"
#include "isa_cap_scope.h"
#include "kernel_reference.h"
#include "model_builders.h"
#include "model_generator.h"
#include "reference.h"

namespace {

std::filesystem::path upstream_model(const std::string& name) {
  return nam_test::reference_dir() / ".." / "upstream" / "example_models" / name;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

// Loads an upstream example model as JSON, skipping the test when the shared data is not there.
#define LOAD_UPSTREAM_OR_SKIP(var, name)                                                                     \
  const std::filesystem::path var##_path = upstream_model(name);                                             \
  if (!std::filesystem::exists(var##_path))                                                                  \
    GTEST_SKIP() << "missing " << var##_path;                                                                \
  nlohmann::json var = read_json(var##_path)

std::vector<float> test_signal(const int frames) {
  std::vector<float> x(frames);
  for (int t = 0; t < frames; ++t)
    x[t] = 0.5f * std::sin(0.013f * t) + 0.2f * std::sin(0.31f * t);
  return x;
}

// Processes `input` (copied to every input channel) in consecutive blocks whose sizes cycle through `blocks`.
std::vector<float> render_blocks(nam::DSP& model, const std::vector<float>& input,
                                 const std::vector<int>& blocks) {
  const int frames = static_cast<int>(input.size());
  std::vector<std::vector<NAM_SAMPLE>> in(model.NumInputChannels(),
                                          std::vector<NAM_SAMPLE>(input.begin(), input.end()));
  std::vector<std::vector<NAM_SAMPLE>> out(model.NumOutputChannels(), std::vector<NAM_SAMPLE>(frames));
  std::vector<NAM_SAMPLE*> in_ptrs(in.size()), out_ptrs(out.size());
  int t = 0;
  for (size_t b = 0; t < frames; ++b) {
    const int n = std::min(blocks[b % blocks.size()], frames - t);
    for (size_t c = 0; c < in.size(); ++c)
      in_ptrs[c] = in[c].data() + t;
    for (size_t c = 0; c < out.size(); ++c)
      out_ptrs[c] = out[c].data() + t;
    model.process(in_ptrs.data(), out_ptrs.data(), n);
    t += n;
  }
  std::vector<float> flat;
  for (const auto& channel : out)
    flat.insert(flat.end(), channel.begin(), channel.end());
  return flat;
}

std::string load_error(const nlohmann::json& model) {
  try {
    nam::get_dsp(model);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const char* const kExampleWaveNets[] = {"wavenet.nam", "wavenet_condition_dsp.nam", "wavenet_a2_max.nam",
                                        "wavenet_a1_standard.nam", "slimmable_wavenet.nam"};

TEST(WaveNet, BlockSizeDoesNotChangeTheOutput) {
  for (const char* name : kExampleWaveNets) {
    LOAD_UPSTREAM_OR_SKIP(model_json, name);
    const std::vector<float> input = test_signal(3000);
    auto reference = nam::get_dsp(model_json);
    reference->Reset(48000, 1);
    const std::vector<float> sample_by_sample = render_blocks(*reference, input, {1});
    auto model = nam::get_dsp(model_json);
    model->Reset(48000, 65);
    const std::vector<float> irregular = render_blocks(*model, input, {65, 1, 7, 64, 33, 2});
    EXPECT_LT(nam_test::max_abs_difference(sample_by_sample, irregular), 1e-5) << name;
  }
}

TEST(WaveNet, BlocksLargerThanTheMaxBufferSizeAreProcessedInPieces) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet_a2_max.nam");
  const std::vector<float> input = test_signal(2000);
  auto small = nam::get_dsp(model_json);
  small->Reset(48000, 16);
  const std::vector<float> expected = render_blocks(*small, input, {16});
  auto model = nam::get_dsp(model_json);
  model->Reset(48000, 16);
  std::vector<float> oversized;
  {
    nam_test::AllocationScope scope;
    oversized = render_blocks(*model, input, {500});
    // render_blocks allocates its own buffers; the check that matters is below.
  }
  EXPECT_LT(nam_test::max_abs_difference(expected, oversized), 1e-5);
}

TEST(WaveNet, ProcessDoesNotAllocate) {
  if (!nam_test::AllocationScope::available())
    GTEST_SKIP() << "allocation counting is not available in this build";
  for (const char* name : kExampleWaveNets) {
    LOAD_UPSTREAM_OR_SKIP(model_json, name);
    auto model = nam::get_dsp(model_json);
    model->Reset(48000, 64);
    std::vector<NAM_SAMPLE> in(256, 0.1), out(256);
    NAM_SAMPLE* in_ptr = in.data();
    NAM_SAMPLE* out_ptr = out.data();
    nam_test::AllocationScope scope;
    model->process(&in_ptr, &out_ptr, 64);
    model->process(&in_ptr, &out_ptr, 7);
    model->process(&in_ptr, &out_ptr, 256); // larger than the max buffer size
    EXPECT_EQ(scope.allocations(), 0) << name;
    EXPECT_EQ(scope.deallocations(), 0) << name;
  }
}

TEST(WaveNet, ResetReturnsToTheSameState) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet_condition_dsp.nam");
  auto model = nam::get_dsp(model_json);
  const std::vector<float> input = test_signal(1000);
  model->Reset(48000, 64);
  const std::vector<float> first = render_blocks(*model, input, {64});
  model->Reset(48000, 64);
  const std::vector<float> second = render_blocks(*model, input, {64});
  EXPECT_LT(nam_test::max_abs_difference(first, second), 1e-6);
}

TEST(WaveNet, PrewarmSamplesFollowTheReceptiveField) {
  const std::pair<const char*, int> expected[] = {{"wavenet.nam", 23},
                                                  {"wavenet_condition_dsp.nam", 45},
                                                  {"wavenet_a2_max.nam", 31},
                                                  {"wavenet_a1_standard.nam", 4093}};
  for (const auto& [name, samples] : expected) {
    LOAD_UPSTREAM_OR_SKIP(model_json, name);
    EXPECT_EQ(nam::get_dsp(model_json)->GetPrewarmSamples(), samples) << name;
  }
}

TEST(WaveNet, WeightCountErrors) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet.nam");
  ASSERT_EQ(model_json["weights"].size(), 131u);
  nlohmann::json short_model = model_json;
  short_model["weights"].erase(short_model["weights"].size() - 1);
  EXPECT_NE(
      load_error(short_model).find("Weight mismatch: provided 130 weights, but the model expects more."),
      std::string::npos)
      << load_error(short_model);
  nlohmann::json long_model = model_json;
  long_model["weights"].push_back(123.456);
  EXPECT_NE(load_error(long_model).find("Weight mismatch: assigned 132 weights, but 132 were provided."),
            std::string::npos)
      << load_error(long_model);
}

struct ConfigEdit {
  const char* name;
  std::function<void(nlohmann::json& config)> edit;
  const char* expected_message;
};

class WaveNetConfigErrors : public testing::TestWithParam<ConfigEdit> {};

TEST_P(WaveNetConfigErrors, AreReportedClearly) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet.nam");
  GetParam().edit(model_json["config"]);
  const std::string message = load_error(model_json);
  EXPECT_NE(message.find(GetParam().expected_message), std::string::npos) << "got: " << message;
}

nlohmann::json& array0(nlohmann::json& config) {
  return config["layers"][0];
}

INSTANTIATE_TEST_SUITE_P(
    Edits, WaveNetConfigErrors,
    testing::Values(
        ConfigEdit{"NoLayerArrays", [](nlohmann::json& c) { c["layers"] = nlohmann::json::array(); },
                   "WaveNet config requires at least one layer array"},
        ConfigEdit{"MissingChannels", [](nlohmann::json& c) { array0(c).erase("channels"); },
                   "config.layers[0].channels: required key is missing"},
        ConfigEdit{"ZeroChannels", [](nlohmann::json& c) { array0(c)["channels"] = 0; },
                   "config.layers[0].channels"},
        ConfigEdit{"HugeChannels", [](nlohmann::json& c) { array0(c)["channels"] = 1000000000; },
                   "config.layers[0].channels"},
        ConfigEdit{"HugeDilation",
                   [](nlohmann::json& c) {
                     array0(c)["dilations"] = {1, 1 << 30};
                   },
                   "config.layers[0].dilations[1]"},
        ConfigEdit{"NegativeDilation",
                   [](nlohmann::json& c) {
                     array0(c)["dilations"] = {1, -2};
                   },
                   "config.layers[0].dilations[1]"},
        ConfigEdit{"KernelSizeZero", [](nlohmann::json& c) { array0(c)["kernel_size"] = 0; },
                   "config.layers[0].kernel_size"},
        ConfigEdit{"BothKernelForms",
                   [](nlohmann::json& c) {
                     array0(c)["kernel_sizes"] = {3, 3};
                   },
                   "Layer array 0: only one of kernel_size (int) or kernel_sizes (array) may be provided"},
        ConfigEdit{"KernelSizesLength",
                   [](nlohmann::json& c) {
                     array0(c).erase("kernel_size");
                     array0(c)["kernel_sizes"] = {3};
                   },
                   "Layer array 0: kernel_sizes array size (1) must match dilations size (2)"},
        ConfigEdit{"NoKernelSize", [](nlohmann::json& c) { array0(c).erase("kernel_size"); },
                   "Layer array 0: either kernel_size (int) or kernel_sizes (array) must be provided"},
        ConfigEdit{"ActivationListLength", [](nlohmann::json& c) { array0(c)["activation"] = {"Tanh"}; },
                   "Layer array 0: activation array size (1) must match dilations size (2)"},
        ConfigEdit{"UnknownActivation", [](nlohmann::json& c) { array0(c)["activation"] = "Wobble"; },
                   "Wobble"},
        ConfigEdit{"UnknownGatingMode", [](nlohmann::json& c) { array0(c)["gating_mode"] = "sometimes"; },
                   "Invalid gating_mode: sometimes"},
        ConfigEdit{"GatingListLength", [](nlohmann::json& c) { array0(c)["gating_mode"] = {"gated"}; },
                   "Layer array 0: gating_mode array size (1) must match dilations size (2)"},
        ConfigEdit{"SecondaryListTooShort",
                   [](nlohmann::json& c) {
                     array0(c)["gating_mode"] = {"gated", "gated"};
                     array0(c)["secondary_activation"] = {"Sigmoid"};
                   },
                   "Layer array 0: secondary_activation array size must be at least 2"},
        ConfigEdit{"BottleneckWithoutLayer1x1",
                   [](nlohmann::json& c) {
                     array0(c)["bottleneck"] = 2;
                     array0(c)["layer1x1"] = {{"active", false}, {"groups", 1}};
                   },
                   "When layer1x1.active is false, bottleneck (2) must equal channels (3)"},
        ConfigEdit{"FilmAfterInactiveLayer1x1",
                   [](nlohmann::json& c) {
                     array0(c)["layer1x1"] = {{"active", false}, {"groups", 1}};
                     array0(c)["layer1x1_post_film"] = nlohmann::json::object();
                   },
                   "Layer array 0: layer1x1_post_film cannot be active when layer1x1.active is false"},
        ConfigEdit{"FilmAfterInactiveHead1x1",
                   [](nlohmann::json& c) { array0(c)["head1x1_post_film"] = nlohmann::json::object(); },
                   "Do not use post-head 1x1 FiLM if there is no head 1x1"},
        ConfigEdit{"GroupsDoNotDivide", [](nlohmann::json& c) { array0(c)["groups_input"] = 2; },
                   "must be divisible by numGroups (2)"},
        ConfigEdit{"FilmNotAnObject", [](nlohmann::json& c) { array0(c)["conv_pre_film"] = true; },
                   "config.layers[0].conv_pre_film"},
        ConfigEdit{"HeadNotAnObject", [](nlohmann::json& c) { array0(c)["head"] = 3; },
                   "Layer array 0: 'head' must be a JSON object"},
        ConfigEdit{"NoHeadSize", [](nlohmann::json& c) { array0(c).erase("head_size"); },
                   "Layer array 0: expected 'head' object with out_channels, kernel_size, and bias"},
        ConfigEdit{"ChainMismatch", [](nlohmann::json& c) { c["layers"][1]["channels"] = 3; },
                   "channels of layer 1 (3) doesn't match head_size of preceding layer (2"},
        ConfigEdit{"InputSizeMismatch", [](nlohmann::json& c) { c["layers"][1]["input_size"] = 2; },
                   "input_size (2)"},
        ConfigEdit{"ConditionSizeMismatch", [](nlohmann::json& c) { array0(c)["condition_size"] = 2; },
                   "condition_size (2)"},
        ConfigEdit{"HeadScaleNotANumber", [](nlohmann::json& c) { c["head_scale"] = "loud"; },
                   "config.head_scale"},
        ConfigEdit{"EmptyPostStackHead",
                   [](nlohmann::json& c) {
                     c["head"] = {{"channels", 4},
                                  {"out_channels", 1},
                                  {"kernel_sizes", nlohmann::json::array()},
                                  {"activation", "Tanh"}};
                   },
                   "WaveNet config: head.kernel_sizes must be non-empty"},
        ConfigEdit{"PostStackHeadInChannels",
                   [](nlohmann::json& c) {
                     c["head"] = {{"in_channels", 5},
                                  {"channels", 4},
                                  {"out_channels", 1},
                                  {"kernel_sizes", {1}},
                                  {"activation", "Tanh"}};
                   },
                   "WaveNet config: head.in_channels (5) must equal last layer's head_size (1)"},
        ConfigEdit{"UnsupportedSlimmableMethod",
                   [](nlohmann::json& c) {
                     array0(c)["slimmable"] = {{"method", "prune_randomly"}};
                   },
                   "SlimmableWavenet: unsupported slimmable method 'prune_randomly'"}),
    [](const testing::TestParamInfo<ConfigEdit>& info) { return std::string(info.param.name); });

TEST(WaveNet, ModelsOverTheMemoryBudgetAreRefusedBeforeAllocating) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet.nam");
  const size_t saved = nam::GetMaxModelBytes();
  nam::SetMaxModelBytes(100 * 1024);
  const std::string message = load_error(model_json);
  nam::SetMaxModelBytes(saved);
  EXPECT_NE(message.find("This WaveNet would need about"), std::string::npos) << message;
  EXPECT_NE(message.find("nam::SetMaxModelBytes"), std::string::npos) << message;
  EXPECT_EQ(load_error(model_json), "");

  // Within every per-key limit, but 2048 channels x 2 x 2^20 frames of history is far over 1 GiB.
  nlohmann::json& layer_array = model_json["config"]["layers"][0];
  layer_array["channels"] = 2048;
  layer_array["dilations"] = {1 << 20, 1};
  model_json["config"]["layers"][1]["input_size"] = 2048;
  EXPECT_NE(load_error(model_json).find("would need about"), std::string::npos) << load_error(model_json);
}

TEST(WaveNet, ConditionModelSampleRateMustMatch) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet_condition_dsp.nam");
  model_json["config"]["condition_dsp"]["sample_rate"] = 44100;
  EXPECT_NE(load_error(model_json)
                .find("Condition DSP expected sample rate (44100) doesn't match WaveNet expected "
                      "sample rate (48000"),
            std::string::npos)
      << load_error(model_json);
}

TEST(WaveNet, MultichannelWithPostStackHead) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "wavenet.nam");
  nlohmann::json& config = model_json["config"];
  config["in_channels"] = 2;
  config["layers"][0]["input_size"] = 2;
  config["layers"][0]["condition_size"] = 2;
  config["layers"][1]["condition_size"] = 2;
  config["head"] = {{"channels", 4}, {"out_channels", 3}, {"kernel_sizes", {3, 2}}, {"activation", "ReLU"}};
  nlohmann::json& weights = model_json["weights"];
  // Extra rechannel column (3) and mixin columns (2 layers x 3, then 2), then the head: (4x1x3 + 4) + (3x4x2
  // + 3).
  const size_t needed = 131 + 3 + 3 + 3 + 2 + (12 + 4) + (24 + 3);
  while (weights.size() < needed)
    weights.push_back(0.01 * static_cast<double>(weights.size() % 17) - 0.08);
  auto model = nam::get_dsp(model_json);
  ASSERT_EQ(model->NumInputChannels(), 2);
  ASSERT_EQ(model->NumOutputChannels(), 3);
  EXPECT_EQ(model->GetPrewarmSamples(), 23 + 2 + 1);
  const std::vector<float> input = test_signal(600);
  model->Reset(48000, 64);
  const std::vector<float> a = render_blocks(*model, input, {64});
  model->Reset(48000, 64);
  const std::vector<float> b = render_blocks(*model, input, {3, 61, 1});
  EXPECT_LT(nam_test::max_abs_difference(a, b), 1e-5);
  EXPECT_GT(std::abs(a[1800 - 1]), 0.0f); // third channel is not silent
}

// A WaveNet document of one layer array, no post-stack head and a head scale of 0.5, at 48 kHz.
nlohmann::json one_array_wavenet(const nlohmann::json& array, const std::vector<float>& weights) {
  return {{"version", "0.6.0"},
          {"architecture", "WaveNet"},
          {"config", {{"layers", {array}}, {"head", nullptr}, {"head_scale", 0.5}}},
          {"weights", weights},
          {"sample_rate", 48000}};
}

// Where each FiLM acts: a FiLM that doubles its signal (zero weights, scale bias 2, shift bias 0) gives the
// model without it whose weights downstream of that point are doubled. Doubling is exact in floating point,
// so the outputs are equal bit for bit (one case excepted, see `exact`). A FiLM applied at another point,
// or not applied, or with its scale and shift halves swapped, breaks the equality. One layer array of 3
// channels, two layers, Tanh, no gating; with and without a head1x1, at every instruction set.
enum class Doubled { conv_weight, conv_bias, mixin, layer1x1_weight, head1x1, head1x1_bias, head_rechannel };
struct FilmSiteCase {
  const char* key; // the FiLM's config key
  int modulated;   // channels it modulates (the condition's 1 for input_mixin_pre_film, else 3)
  bool head1x1;
  std::vector<Doubled> doubled; // what the FiLM amounts to; nothing for one that is not applied
  bool exact;
};

nlohmann::json film_site_model(const FilmSiteCase& c, const bool film) {
  constexpr int kChannels = 3, kKernel = 2, kLayers = 2;
  nlohmann::json array = {{"input_size", 1},        {"condition_size", 1},
                          {"head_size", 1},         {"channels", kChannels},
                          {"kernel_size", kKernel}, {"dilations", {1, 2}},
                          {"activation", "Tanh"},   {"gated", false},
                          {"head_bias", true},      {"layer1x1", {{"active", true}, {"groups", 1}}}};
  if (c.head1x1)
    array["head1x1"] = {{"active", true}, {"out_channels", kChannels}, {"groups", 1}};
  if (film)
    array[c.key] = {{"active", true}, {"shift", true}};
  std::vector<float> weights;
  int seed = 0;
  const auto push = [&](const int count, const std::optional<Doubled> tensor) {
    const bool doubled = !film && tensor && std::count(c.doubled.begin(), c.doubled.end(), *tensor) > 0;
    for (int i = 0; i < count; ++i, ++seed)
      weights.push_back((doubled ? 2.0f : 1.0f) *
                        (0.37f * static_cast<float>((seed * 7919) % 23) / 23.0f - 0.15f));
  };
  push(kChannels, std::nullopt); // rechannel
  for (int l = 0; l < kLayers; ++l) {
    push(kChannels * kChannels * kKernel, Doubled::conv_weight);
    push(kChannels, Doubled::conv_bias);
    push(kChannels, Doubled::mixin);
    push(kChannels * kChannels, Doubled::layer1x1_weight);
    push(kChannels, std::nullopt); // layer1x1 bias
    if (c.head1x1) {
      push(kChannels * kChannels, Doubled::head1x1);
      push(kChannels, Doubled::head1x1_bias);
    }
    if (film) {
      weights.insert(weights.end(), 2 * c.modulated, 0.0f); // condition -> scale and shift
      weights.insert(weights.end(), c.modulated, 2.0f);     // scale bias
      weights.insert(weights.end(), c.modulated, 0.0f);     // shift bias
    }
  }
  push(kChannels, Doubled::head_rechannel); // head rechannel weight (its input is 3 channels either way)
  push(1, std::nullopt);                    // head rechannel bias
  weights.push_back(0.5f);                  // head scale
  return one_array_wavenet(array, weights);
}

void PrintTo(const FilmSiteCase& c, std::ostream* os) {
  *os << c.key << (c.head1x1 ? " with a head1x1" : "");
}

class FilmSite : public ::testing::TestWithParam<FilmSiteCase> {};

TEST_P(FilmSite, ActsWhereItsWeightsWouldBeDoubled) {
  const FilmSiteCase& c = GetParam();
  const std::vector<float> input = test_signal(700);
  const auto render = [&](const nlohmann::json& model_json) {
    auto model = nam::get_dsp(model_json);
    model->Reset(48000, 64);
    return render_blocks(*model, input, {64});
  };
  nam_test::at_every_available_isa([&](nam::kernels::Isa) {
    const std::vector<float> with_film = render(film_site_model(c, true));
    const std::vector<float> expected = render(film_site_model(c, false));
    if (c.exact) {
      EXPECT_EQ(with_film, expected);
    } else {
      EXPECT_LE(nam_test::max_abs_difference(with_film, expected), 1e-6);
    }
    if (!c.doubled.empty()) { // the FiLM matters: its model differs from the one without it
      const std::vector<float> without_film = render(film_site_model({c.key, 0, c.head1x1, {}, true}, false));
      EXPECT_GT(nam_test::max_abs_difference(with_film, without_film), 1e-4);
    }
  });
}

std::vector<FilmSiteCase> film_site_cases() {
  using D = Doubled;
  std::vector<FilmSiteCase> cases;
  for (const bool head1x1 : {false, true}) {
    // The activation's output reaches the head through the head1x1 when there is one, else directly.
    const D head_path = head1x1 ? D::head1x1 : D::head_rechannel;
    cases.push_back({"conv_pre_film", 3, head1x1, {D::conv_weight}, true});
    cases.push_back({"conv_post_film", 3, head1x1, {D::conv_weight, D::conv_bias}, true});
    cases.push_back({"input_mixin_pre_film", 1, head1x1, {D::mixin}, true});
    // The FiLM rounds the mixin's product before the sum that a fused kernel forms with it, so where the
    // kernels fuse multiply-adds the two models round differently.
    cases.push_back({"input_mixin_post_film", 3, head1x1, {D::mixin}, false});
    cases.push_back({"activation_pre_film", 3, head1x1, {D::conv_weight, D::conv_bias, D::mixin}, true});
    cases.push_back({"activation_post_film", 3, head1x1, {D::layer1x1_weight, head_path}, true});
    // Applied only in blended layers (as the original): here it changes nothing.
    cases.push_back({"layer1x1_post_film", 3, head1x1, {}, true});
  }
  cases.push_back({"head1x1_post_film", 3, true, {D::head1x1, D::head1x1_bias}, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(WaveNet, FilmSite, ::testing::ValuesIn(film_site_cases()),
                         [](const ::testing::TestParamInfo<FilmSiteCase>& info) {
                           return std::string(info.param.key) + (info.param.head1x1 ? "_head1x1" : "");
                         });

// Where the conv's kernel has a mixin variant, a layer computes z (conv output plus mixin) in the conv's
// pass. An identity FiLM on the mixin output (zero weights, scale bias 1, no shift) keeps the separate passes
// with the same sums, so both models must give the same bits: 8 channels with plain layers (8x8 convs),
// gated and blended ones (16x8), at every instruction set and block pattern.
nlohmann::json mixin_model(const bool identity_film) {
  constexpr int kChannels = 8, kKernel = 3;
  const std::vector<std::string> modes = {"none", "gated", "none", "blended", "none"};
  nlohmann::json array = {{"input_size", 1},
                          {"condition_size", 1},
                          {"head_size", 1},
                          {"channels", kChannels},
                          {"kernel_size", kKernel},
                          {"dilations", {1, 2, 4, 8, 3}},
                          {"activation", "Tanh"},
                          {"gating_mode", modes},
                          {"secondary_activation", {nullptr, "Sigmoid", nullptr, "Sigmoid", nullptr}},
                          {"head_bias", true},
                          {"layer1x1", {{"active", true}, {"groups", 1}}}};
  if (identity_film)
    array["input_mixin_post_film"] = {{"active", true}, {"shift", false}};
  std::vector<float> weights;
  int seed = 0;
  const auto push = [&](const int count) {
    for (int i = 0; i < count; ++i, ++seed)
      weights.push_back(0.3f * static_cast<float>((seed * 7919) % 29) / 29.0f - 0.14f);
  };
  push(kChannels); // rechannel
  for (const std::string& mode : modes) {
    const int z_rows = mode == "none" ? kChannels : 2 * kChannels;
    push(z_rows * kChannels * kKernel + z_rows); // conv weight and bias
    push(z_rows);                                // mixin
    push(kChannels * kChannels + kChannels);     // layer1x1 weight and bias
    if (identity_film) {
      weights.insert(weights.end(), z_rows, 0.0f); // condition -> scale
      weights.insert(weights.end(), z_rows, 1.0f); // scale bias
    }
  }
  push(kChannels + 1);     // head rechannel weight and bias
  weights.push_back(0.5f); // head scale
  return one_array_wavenet(array, weights);
}

TEST(WaveNet, MixinInTheConvPassMatchesSeparatePasses) {
  const std::vector<float> input = test_signal(700);
  const auto render = [&](const nlohmann::json& model_json, const std::vector<int>& blocks) {
    auto model = nam::get_dsp(model_json);
    model->Reset(48000, 64);
    return render_blocks(*model, input, blocks);
  };
  nam_test::at_every_available_isa([&](nam::kernels::Isa) {
    for (const std::vector<int>& blocks : {std::vector<int>{64}, std::vector<int>{37, 1, 64, 5}}) {
      const std::vector<float> fused = render(mixin_model(false), blocks);
      EXPECT_EQ(fused, render(mixin_model(true), blocks));
      EXPECT_GT(nam_test::max_abs_difference(fused, std::vector<float>(fused.size(), 0.0f)), 1e-2);
    }
  });
}

/// A WaveNet file of `version` with `config` and random weights (from `seed`).
nlohmann::json random_wavenet(const nlohmann::json& config, const char* version, const std::uint32_t seed) {
  return {{"version", version},
          {"architecture", "WaveNet"},
          {"config", config},
          {"weights",
           nam_tools::random_values(static_cast<long>(nam_tools::count_wavenet_weights(config)), seed)},
          {"sample_rate", 48000}};
}

/// At every instruction set: each of the model's `layers` plain layers reports one one-kernel pick, a `layer`
/// kernel exactly where `one_kernel_at(isa)` (else the separate kernels, of either one-kernel form), and the
/// model gives the same bits in 64-frame blocks as in `other_blocks`.
void expect_one_kernel_layers(const nlohmann::json& model_json, const std::string& layer, const size_t layers,
                              bool (*one_kernel_at)(nam::kernels::Isa),
                              const std::vector<int>& other_blocks) {
  const std::vector<float> input = test_signal(1000);
  nam_test::at_every_available_isa([&](const nam::kernels::Isa isa) {
    std::vector<nam::kernels::PickReport> picks;
    nam::kernels::set_pick_listener([&](const nam::kernels::PickReport& pick) {
      if (pick.one_kernel_layer())
        picks.push_back(pick);
    });
    auto model = nam::get_dsp(model_json);
    nam::kernels::set_pick_listener(nullptr);
    ASSERT_EQ(picks.size(), layers);
    for (const nam::kernels::PickReport& pick : picks) {
      const bool one_kernel = pick.why_generic.empty();
      EXPECT_EQ(one_kernel, one_kernel_at(isa)) << pick.kernel;
      EXPECT_EQ(std::string(pick.kernel) != nam::kernels::kNarrowLayerSeparateName &&
                    std::string(pick.kernel) != nam::kernels::kPairedLayerSeparateName,
                one_kernel)
          << pick.kernel;
      if (one_kernel)
        EXPECT_EQ(pick.layer, layer);
    }
    model->Reset(48000, 64);
    const std::vector<float> whole_blocks = render_blocks(*model, input, {64});
    model->Reset(48000, 64);
    EXPECT_EQ(render_blocks(*model, input, other_blocks), whole_blocks);
    EXPECT_GT(nam_test::max_abs_difference(whole_blocks, std::vector<float>(whole_blocks.size(), 0.0f)),
              1e-2);
  });
}

// A plain narrow layer (2 or 4 channels and fast tanh, without FiLMs, gating or a head1x1) runs as one
// kernel (kernels/narrow_layer.h) in blocks whose size is a multiple of the kernel's frames, and as separate
// kernels in the others; both must give the same bits, whichever way the blocks alternate. Arrays of 4 and
// 2 channels with kernel sizes 3 and 2, at every instruction set but baseline (the portable build does not
// fuse); the picks show where the one kernel runs.
TEST(WaveNet, NarrowLayersInOneKernelGiveTheSeparateKernelsBits) {
  const nam_test::FastTanhScope fast(true);
  const auto array = [](const int input, const int channels, const int kernel,
                        const std::vector<int>& dilations, const int head, const bool head_bias) {
    return nlohmann::json{{"input_size", input},  {"condition_size", 1},   {"head_size", head},
                          {"channels", channels}, {"kernel_size", kernel}, {"dilations", dilations},
                          {"activation", "Tanh"}, {"gated", false},        {"head_bias", head_bias}};
  };
  const nlohmann::json config = {
      {"layers", {array(1, 4, 3, {1, 2, 7}, 2, false), array(4, 2, 2, {1, 3}, 1, true)}},
      {"head", nullptr},
      {"head_scale", 0.5}};
  expect_one_kernel_layers(random_wavenet(config, "0.5.4", 21), nam::kernels::kNarrowLayerKind, 5,
                           [](const nam::kernels::Isa isa) { return isa != nam::kernels::Isa::baseline; },
                           {36, 16, 5, 32, 24, 48});
}

// A plain LeakyReLU or fast-tanh layer whose channels fill half a vector (8 at AVX-512) runs as one kernel
// (kernels/paired_layer.h) in blocks of an even size, and as separate kernels in the others; both must give
// the same bits. Two 8-channel arrays (kernel sizes 6 and 3; slopes 0.01 and 0.2, or 0.01 and fast tanh):
// rendered in 64-frame blocks, where the one kernel runs at avx512, and in odd blocks, where it never does.
TEST(WaveNet, PairedLayersInOneKernelGiveTheSeparateKernelsBits) {
  const nam_test::FastTanhScope fast(true);
  const auto array = [](const int input, const int kernel, const std::vector<int>& dilations,
                        const nlohmann::json& activation, const int head) {
    return nlohmann::json{{"input_size", input},      {"condition_size", 1},
                          {"head_size", head},        {"channels", 8},
                          {"kernel_size", kernel},    {"dilations", dilations},
                          {"activation", activation}, {"gated", false},
                          {"head_bias", true},        {"layer1x1", {{"active", true}, {"groups", 1}}}};
  };
  const auto leaky_relu = [](const float slope) {
    return nlohmann::json{{"type", "LeakyReLU"}, {"negative_slope", slope}};
  };
  // LeakyReLU in both arrays, then fast tanh ("Tanh" with fast tanh on) in the second.
  for (const nlohmann::json& second_activation : {leaky_relu(0.2f), nlohmann::json("Tanh")}) {
    SCOPED_TRACE(second_activation.dump());
    const nlohmann::json config = {
        {"layers",
         {array(1, 6, {1, 3, 7, 17}, leaky_relu(0.01f), 8), array(8, 3, {1, 5}, second_activation, 1)}},
        {"head", nullptr},
        {"head_scale", 0.5}};
    expect_one_kernel_layers(random_wavenet(config, "0.7.0", 23), nam::kernels::kPairedLayerKind, 6,
                             [](const nam::kernels::Isa isa) { return isa == nam::kernels::Isa::avx512; },
                             {37, 1, 63, 5, 27});
  }
}

nlohmann::json a2_submodel(const nlohmann::json& container, const size_t index) {
  return container["config"]["submodels"][index]["model"];
}

TEST(WaveNetA2, DetectorAcceptsTheA2ShapesOnly) {
  LOAD_UPSTREAM_OR_SKIP(a2, "A2.nam");
  for (size_t i = 0; i < a2["config"]["submodels"].size(); ++i) {
    nlohmann::json config = a2_submodel(a2, i)["config"];
    int channels = 0;
    ASSERT_TRUE(nam::wavenet::a2_fast::is_a2_shape(config, &channels)) << i;
    EXPECT_TRUE(channels == 3 || channels == 8);
    config["layers"][0]["conv_pre_film"] = nlohmann::json::object(); // inactive for the detector (quirk)
    EXPECT_TRUE(nam::wavenet::a2_fast::is_a2_shape(config, nullptr));
    nlohmann::json changed = config;
    changed["layers"][0]["dilations"][3] = 18;
    EXPECT_FALSE(nam::wavenet::a2_fast::is_a2_shape(changed, nullptr));
    changed = config;
    changed["layers"][0]["gating_mode"] = "none"; // only the per-layer array form matches
    EXPECT_FALSE(nam::wavenet::a2_fast::is_a2_shape(changed, nullptr));
  }
}

TEST(WaveNetA2, WeightCountMessagesAreTheA2Ones) {
  LOAD_UPSTREAM_OR_SKIP(a2, "A2.nam");
  nlohmann::json model = a2_submodel(a2, 0);
  model["weights"].push_back(0.5);
  model["weights"].push_back(0.25);
  EXPECT_EQ(load_error(model), "A2FastModel: weight stream has 2 trailing bytes");
  model = a2_submodel(a2, 0);
  model["weights"].erase(0);
  EXPECT_EQ(load_error(model), "A2FastModel: weight stream exhausted");
  model = a2_submodel(a2, 0);
  model["config"]["layers"][0]["conv_pre_film"] = nlohmann::json::object();
  EXPECT_NO_THROW(nam::get_dsp(model)); // the empty FiLM object is inactive on the A2 path
}

TEST(SlimmableWaveNet, BreakpointsAndSizes) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "slimmable_wavenet.nam");
  auto model = nam::get_dsp(model_json);
  auto* slimmable = dynamic_cast<nam::SlimmableModel*>(model.get());
  ASSERT_NE(slimmable, nullptr);
  const std::vector<double> breakpoints = slimmable->GetSlimmableSizeBreakpoints();
  ASSERT_EQ(breakpoints.size(), 2u);
  EXPECT_NEAR(breakpoints[0], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(breakpoints[1], 2.0 / 3.0, 1e-12);

  const std::vector<float> input = test_signal(2000);
  model->Reset(48000, 64);
  const std::vector<float> full = render_blocks(*model, input, {64});
  slimmable->SetSlimmableSize(0.0);
  model->Reset(48000, 64);
  const std::vector<float> smallest = render_blocks(*model, input, {64});
  slimmable->SetSlimmableSize(1.0);
  model->Reset(48000, 64);
  const std::vector<float> full_again = render_blocks(*model, input, {64});
  EXPECT_GT(nam_test::max_abs_difference(full, smallest), 1e-3);   // a different model...
  EXPECT_LT(nam_test::max_abs_difference(full, full_again), 1e-6); // ...and back
}

TEST(SlimmableWaveNet, InvalidAllowedChannels) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "slimmable_wavenet.nam");
  nlohmann::json& slim = model_json["config"]["layers"][0]["slimmable"];
  slim["kwargs"]["allowed_channels"] = {2, 1, 3};
  EXPECT_EQ(load_error(model_json), "SlimmableWavenet: allowed_channels must be sorted ascending");
  slim["kwargs"]["allowed_channels"] = {1, 2};
  EXPECT_EQ(load_error(model_json),
            "SlimmableWavenet: last allowed_channels entry must equal the full channel count for that array");
}

TEST(SlimmableWaveNet, ShapesThatCannotBeSlicedAreNamedWhenSlimming) {
  LOAD_UPSTREAM_OR_SKIP(model_json, "slimmable_wavenet.nam");
  nlohmann::json& array = model_json["config"]["layers"][0];
  // A two-tap head rechannel (3 inputs to 1 output, no bias) needs three more weights.
  array.erase("head_size");
  array.erase("head_bias");
  array["head"] = {{"out_channels", 1}, {"kernel_size", 2}, {"bias", false}};
  for (int extra = 0; extra < 3; ++extra)
    model_json["weights"].push_back(0.0);
  auto model = nam::get_dsp(model_json); // the full width needs no slicing
  auto* slimmable = dynamic_cast<nam::SlimmableModel*>(model.get());
  ASSERT_NE(slimmable, nullptr);
  try {
    slimmable->SetSlimmableSize(0.0);
    FAIL() << "expected a refusal to slim a two-tap head";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "SlimmableWavenet: cannot slim a model whose head kernel_size is 2 (only 1 is supported)");
  }
}

} // namespace
