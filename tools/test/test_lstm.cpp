// LSTM: the fused kernels against a straightforward scalar LSTM, block-size independence, Reset, prewarm,
// real-time safety and config errors.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/activations.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/isa.h"
#include "NAM/kernels/registry.h"
#include "NAM/lstm.h"
#include "allocation_tracking.h"
#include "architecture_models.h"
#include "isa_cap_scope.h"
#include "model_builders.h"

namespace nam_test {
namespace {

using nam::kernels::Isa;

/// The textbook LSTM, one frame at a time, reading the weights in the file's order (row-major gate matrix,
/// gate blocks i, f, g, o).
class NaiveLstm {
public:
  NaiveLstm(const LstmShape& shape, const std::vector<float>& weights, const bool fast) :
      _shape(shape),
      _fast(fast) {
    size_t next = 0;
    auto take = [&](const size_t count) {
      std::vector<float> values(weights.begin() + next, weights.begin() + next + count);
      next += count;
      return values;
    };
    const int h = shape.hidden_size;
    for (int l = 0; l < shape.num_layers; ++l) {
      Layer layer;
      layer.inputs = l == 0 ? shape.input_size : h;
      layer.matrix = take(4 * h * (layer.inputs + h));
      layer.bias = take(4 * h);
      layer.hidden = take(h);
      layer.cell = take(h);
      _layers.push_back(layer);
    }
    _head_weight = take(shape.out_channels * h);
    _head_bias = take(shape.out_channels);
  }

  /// One frame: `x` has input_size values; returns out_channels values.
  std::vector<float> step(std::vector<float> x) {
    const int h = _shape.hidden_size;
    for (Layer& layer : _layers) {
      std::vector<float> joined = x;
      joined.insert(joined.end(), layer.hidden.begin(), layer.hidden.end());
      std::vector<float> gates(4 * h);
      for (int r = 0; r < 4 * h; ++r) {
        float sum = layer.bias[r];
        for (size_t j = 0; j < joined.size(); ++j)
          sum += layer.matrix[r * joined.size() + j] * joined[j];
        gates[r] = sum;
      }
      for (int k = 0; k < h; ++k) {
        const float i = sigmoid(gates[k]), f = sigmoid(gates[h + k]);
        const float g = tanh(gates[2 * h + k]), o = sigmoid(gates[3 * h + k]);
        layer.cell[k] = f * layer.cell[k] + i * g;
        layer.hidden[k] = o * tanh(layer.cell[k]);
      }
      x = layer.hidden;
    }
    std::vector<float> y(_shape.out_channels);
    for (int o = 0; o < _shape.out_channels; ++o) {
      float sum = 0.0f;
      for (int k = 0; k < h; ++k)
        sum += _head_weight[o * h + k] * x[k];
      y[o] = sum + _head_bias[o];
    }
    return y;
  }

  /// Renders mono `input` (copied to every input channel), outputs channel after channel.
  std::vector<double> render(const std::vector<double>& input) {
    std::vector<double> result(input.size() * _shape.out_channels);
    for (size_t t = 0; t < input.size(); ++t) {
      const std::vector<float> y = step(std::vector<float>(_shape.input_size, static_cast<float>(input[t])));
      for (int o = 0; o < _shape.out_channels; ++o)
        result[o * input.size() + t] = y[o];
    }
    return result;
  }

private:
  struct Layer {
    int inputs = 0;
    std::vector<float> matrix, bias, hidden, cell;
  };
  float sigmoid(const float x) const {
    return _fast ? nam::activations::fast_sigmoid(x) : 1.0f / (1.0f + std::exp(-x));
  }
  float tanh(const float x) const { return _fast ? nam::activations::fast_tanh(x) : std::tanh(x); }

  LstmShape _shape;
  bool _fast;
  std::vector<Layer> _layers;
  std::vector<float> _head_weight, _head_bias;
};

/// Forces the generic kernels for the models loaded while alive.
class ForceGenericScope {
public:
  ForceGenericScope() { nam::kernels::set_force_generic(true); }
  ~ForceGenericScope() { nam::kernels::set_force_generic(false); }
};

std::unique_ptr<nam::DSP> load_without_prewarm(const nlohmann::json& model) {
  auto dsp = nam::get_dsp(model);
  dsp->SetPrewarmOnReset(false);
  dsp->Reset(48000.0, 64);
  return dsp;
}

struct KernelCase {
  int hidden_size;
  int num_layers;
  bool fast;
  Isa isa;
};

class LstmKernel : public ::testing::TestWithParam<KernelCase> {};

TEST_P(LstmKernel, MatchesNaiveLstm) {
  const KernelCase& c = GetParam();
  if (!nam::kernels::isa_available(c.isa))
    GTEST_SKIP() << nam::kernels::isa_name(c.isa) << " is not available on this CPU";
  const IsaCapScope cap(c.isa);
  const FastTanhScope fast(c.fast);
  // Stacked layers (advanced in pairs, an odd one alone; the second pair writes where its input was) see a
  // 2-channel input and write 3 outputs.
  const bool stacked = c.num_layers > 1;
  const LstmShape shape{c.num_layers, stacked ? 2 : 1, c.hidden_size, stacked ? 3 : 1};
  const std::vector<float> weights = random_weights(shape.weight_count(), 100 + c.hidden_size);
  auto model = load_without_prewarm(lstm_model(shape, weights));

  const auto* lstm = dynamic_cast<nam::lstm::LSTM*>(model.get());
  ASSERT_NE(lstm, nullptr);
  const bool fused = c.hidden_size <= 8 || c.hidden_size == 12 || c.hidden_size == 16 || c.hidden_size == 24;
  // States narrower than 16 run AVX2 kernels on AVX-512 CPUs (lstm.cpp, layer_isa).
  const Isa layer_isa = c.isa == Isa::avx512 && c.hidden_size < 16 ? Isa::avx2 : c.isa;
  const std::string expected_kernel = "lstm_layer_h" + (fused ? std::to_string(c.hidden_size) : "N") + "__" +
                                      nam::kernels::isa_name(layer_isa);
  EXPECT_EQ(lstm->get_layers().front().kernel_name(), expected_kernel);

  const std::vector<double> input = test_signal(3000);
  const std::vector<double> actual = run_blocks(*model, input, 64);
  const std::vector<double> expected = NaiveLstm(shape, weights, c.fast).render(input);
  EXPECT_LE(max_difference(actual, expected), 2e-5);
}

std::vector<KernelCase> kernel_cases() {
  std::vector<KernelCase> cases;
  for (const int h : {24, 16, 12, 8, 5, 3, 1, 20})
    for (const int layers : {1, 2, 3, 4})
      for (const bool fast : {false, true})
        for (const Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512})
          cases.push_back({h, layers, fast, isa});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sizes, LstmKernel, ::testing::ValuesIn(kernel_cases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           const KernelCase& c = info.param;
                           // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on a chain of
                           // string + starting from a literal.
                           std::string name = "h";
                           name += std::to_string(c.hidden_size);
                           name += "_layers";
                           name += std::to_string(c.num_layers);
                           name += c.fast ? "_fast_" : "_exact_";
                           name += nam::kernels::isa_name(c.isa);
                           return name;
                         });

TEST(LstmKernelPick, GenericPathCanBeForced) {
  const nlohmann::json file = lstm_model({1, 1, 24, 1}, 15);
  auto fused = load_without_prewarm(file);
  std::unique_ptr<nam::DSP> generic;
  {
    const ForceGenericScope force;
    generic = load_without_prewarm(file);
  }
  const std::string name = dynamic_cast<nam::lstm::LSTM&>(*generic).get_layers().front().kernel_name();
  EXPECT_EQ(name.rfind("lstm_layer_hN__", 0), 0u) << name;
  const std::vector<double> input = test_signal(1000);
  EXPECT_LE(max_difference(run_blocks(*fused, input, 64), run_blocks(*generic, input, 64)), 2e-5);
}

// The fused kernels only fix the bounds and regroup loops; every gate sum and activation rounds as in the
// any-size kernel (fast mode: sigmoid through fast_tanh with exact affine maps), so the outputs are equal.
TEST(LstmKernelPick, FusedKernelsRoundAsTheAnySizeKernel) {
  for (const int hidden : {3, 8, 12, 24})
    for (const bool fast : {false, true}) {
      SCOPED_TRACE("hidden " + std::to_string(hidden) + (fast ? ", fast tanh" : ", exact"));
      const FastTanhScope fast_scope(fast);
      const nlohmann::json file = lstm_model({1, 1, hidden, 1}, 40 + hidden);
      auto fused = load_without_prewarm(file);
      std::unique_ptr<nam::DSP> generic;
      {
        const ForceGenericScope force;
        generic = load_without_prewarm(file);
      }
      const std::vector<double> input = test_signal(1000);
      EXPECT_EQ(run_blocks(*fused, input, 64), run_blocks(*generic, input, 64));
    }
}

TEST(Lstm, PrewarmRunsHalfASecondOfSilenceFromTheInitialState) {
  const LstmShape shape{1, 1, 6, 1};
  const std::vector<float> weights = random_weights(shape.weight_count(), 3);
  auto model = nam::get_dsp(lstm_model(shape, weights));
  EXPECT_EQ(model->GetPrewarmSamples(), 24000);
  model->Reset(48000.0, 64); // 24000 is a whole number of 64-frame blocks

  NaiveLstm naive(shape, weights, false);
  naive.render(std::vector<double>(24000, 0.0));
  const std::vector<double> input = test_signal(500);
  EXPECT_LE(max_difference(run_blocks(*model, input, 64), naive.render(input)), 2e-5);

  EXPECT_EQ(nam::get_dsp(lstm_model(shape, weights, 44100.0))->GetPrewarmSamples(), 22050);
  EXPECT_EQ(nam::get_dsp(lstm_model(shape, weights, -1.0))->GetPrewarmSamples(), 1);
}

// Also what shows that stacked layers advanced as a pair (one frame apart) compute every frame as one layer
// after the other would: blocks of one frame leave nothing to overlap.
TEST(Lstm, OutputDoesNotDependOnTheBlockSize) {
  // Hidden sizes 24 and 20 leave part of a vector after the last unit (gate blocks, head chunks); the blocks
  // end between the head's groups of frames.
  for (const LstmShape& shape : {LstmShape{2, 1, 12, 1}, LstmShape{3, 1, 16, 1}, LstmShape{4, 1, 8, 1},
                                 LstmShape{1, 1, 24, 1}, LstmShape{2, 1, 20, 3}}) {
    SCOPED_TRACE(std::to_string(shape.num_layers) + " layers");
    auto model = load_without_prewarm(lstm_model(shape, 11));
    const std::vector<double> input = test_signal(2000);
    const std::vector<double> reference = run_blocks(*model, input, 64);
    for (const int block : {1, 7, 128, 129, 1000}) {
      model->Reset(48000.0, 64); // blocks above 64 are processed in pieces
      EXPECT_EQ(max_difference(run_blocks(*model, input, block), reference), 0.0) << "block " << block;
    }
  }
}

// The head sums a frame's hidden state in whole vectors, reading past it into the next frame's; a NaN there
// (the state after a NaN input) must not reach the frame's own output.
TEST(Lstm, ANanInputDoesNotReachEarlierOutputs) {
  for (const Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512}) {
    if (!nam::kernels::isa_available(isa))
      continue;
    const IsaCapScope cap(isa);
    for (const int hidden : {24, 20, 3}) {
      SCOPED_TRACE(std::string(nam::kernels::isa_name(isa)) + ", hidden size " + std::to_string(hidden));
      auto model = load_without_prewarm(lstm_model(LstmShape{1, 1, hidden, 1}, 12));
      std::vector<double> input = test_signal(200);
      const std::vector<double> clean = run_blocks(*model, input, 64);
      constexpr int kNanFrame = 100; // inside a piece and a group of frames, not at their start
      input[kNanFrame] = std::nan("");
      model->Reset(48000.0, 64);
      const std::vector<double> poisoned = run_blocks(*model, input, 64);
      for (int t = 0; t < kNanFrame; ++t)
        ASSERT_EQ(poisoned[t], clean[t]) << "frame " << t;
      EXPECT_TRUE(std::isnan(poisoned[kNanFrame]));
    }
  }
}

TEST(Lstm, ResetReturnsToThePostLoadState) {
  const nlohmann::json file = lstm_model({1, 1, 16, 1}, 12);
  auto model = nam::get_dsp(file);
  const std::vector<double> input = test_signal(1500);
  model->Reset(48000.0, 64);
  const std::vector<double> first = run_blocks(*model, input, 64);
  model->Reset(48000.0, 64);
  const std::vector<double> second = run_blocks(*model, input, 64);
  EXPECT_EQ(max_difference(first, second), 0.0);

  auto fresh = nam::get_dsp(file);
  fresh->Reset(48000.0, 64);
  EXPECT_EQ(max_difference(run_blocks(*fresh, input, 64), first), 0.0);
}

TEST(Lstm, ProcessDoesNotAllocate) {
  if (!AllocationScope::available())
    GTEST_SKIP() << "allocation tracking is not available in this build";
  for (const bool fast : {false, true}) {
    const FastTanhScope fast_tanh(fast);
    auto model = nam::get_dsp(lstm_model({2, 1, 24, 1}, 13));
    model->Reset(48000.0, 64);
    ChannelBuffers in(1, 1000), out(1, 1000);
    for (int t = 0; t < 1000; ++t)
      in[0][t] = 0.1 * std::sin(0.01 * t);
    const AllocationScope scope;
    model->process(in.pointers(), out.pointers(), 64);
    model->process(in.pointers(), out.pointers(), 1);
    model->process(in.pointers(), out.pointers(), 1000); // larger than the Reset size
    EXPECT_EQ(scope.allocations(), 0);
    EXPECT_EQ(scope.deallocations(), 0);
  }
}

TEST(Lstm, NoLayersPassesTheInputThrough) {
  // As the original: the head weights are read but unused; extra outputs are silent.
  const LstmShape shape{0, 1, 2, 2};
  auto model = load_without_prewarm(lstm_model(shape, random_weights(shape.weight_count(), 1)));
  const std::vector<double> input = test_signal(100);
  const std::vector<double> output = run_blocks(*model, input, 64);
  for (size_t t = 0; t < input.size(); ++t) {
    EXPECT_EQ(output[t], static_cast<NAM_SAMPLE>(input[t])); // exact, at the API's sample precision
    EXPECT_EQ(output[input.size() + t], 0.0);
  }
}

TEST(Lstm, FastTanhSwitchActsWhenProcessing) {
  const nlohmann::json file = lstm_model({1, 1, 8, 1}, 14);
  auto model = load_without_prewarm(file); // loaded with fast tanh off
  const std::vector<double> input = test_signal(400);
  const std::vector<double> exact = run_blocks(*model, input, 64);
  model->Reset(48000.0, 64);
  std::vector<double> fast;
  {
    const FastTanhScope on(true);
    fast = run_blocks(*model, input, 64);
  }
  const std::vector<float> weights = file["weights"].get<std::vector<float>>();
  EXPECT_GT(max_difference(exact, fast), 1e-6);
  EXPECT_LE(max_difference(fast, NaiveLstm({1, 1, 8, 1}, weights, true).render(input)), 2e-5);
}

TEST(LstmConfig, ErrorsNameTheKey) {
  const auto error_for = [](const nlohmann::json& config, const size_t weights = 10) {
    return runtime_error_message(
        [&] { nam::get_dsp(nam_object("LSTM", config, random_weights(weights, 1))); });
  };
  EXPECT_TRUE(contains(error_for({{"num_layers", 1}, {"input_size", 1}}), "config.hidden_size"));
  EXPECT_TRUE(contains(error_for({{"num_layers", "1"}, {"input_size", 1}, {"hidden_size", 2}}),
                       "config.num_layers: expected an integer"));
  EXPECT_TRUE(
      contains(error_for({{"num_layers", -1}, {"input_size", 1}, {"hidden_size", 2}}), "config.num_layers"));
  // Absurd sizes are refused while reading the config, before anything is sized from them.
  EXPECT_TRUE(contains(error_for({{"num_layers", 1}, {"input_size", 1}, {"hidden_size", 1000000000}}),
                       "config.hidden_size"));
  EXPECT_TRUE(contains(error_for({{"num_layers", 1000000}, {"input_size", 1}, {"hidden_size", 2}}),
                       "config.num_layers"));
  EXPECT_TRUE(contains(error_for({{"num_layers", 1}, {"input_size", 2}, {"hidden_size", 2}}),
                       "config.input_size: must equal in_channels (1)"));
  EXPECT_TRUE(
      contains(error_for({{"num_layers", 1}, {"input_size", 1}, {"hidden_size", 2}, {"out_channels", 0}}),
               "config.out_channels"));
}

TEST(LstmConfig, WrongWeightCountIsRefused) {
  const LstmShape shape{1, 1, 3, 1};
  ASSERT_EQ(shape.weight_count(), 70u); // the upstream example's size
  for (const size_t count : {69u, 71u}) {
    const std::string message =
        runtime_error_message([&] { nam::get_dsp(lstm_model(shape, random_weights(count, 2))); });
    EXPECT_TRUE(contains(message, "need 70 weights, got " + std::to_string(count)));
  }
}

} // namespace
} // namespace nam_test
