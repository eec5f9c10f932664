// ConvNet: against a straightforward per-frame implementation, batch-norm folding arithmetic, block-size
// independence, Reset, real-time safety and config errors.

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/activations.h"
#include "NAM/batchnorm.h"
#include "NAM/convnet.h"
#include "NAM/get_dsp.h"
#include "allocation_tracking.h"
#include "architecture_models.h"
#include "model_builders.h"

namespace nam_test {
namespace {

struct ConvNetShape {
  int channels = 4;
  std::vector<int> dilations = {1, 2};
  bool batchnorm = false;
  nlohmann::json activation = "Tanh";
  int groups = 1;
  int in_channels = 1;
  int out_channels = 1;

  nlohmann::json config() const {
    return {{"channels", channels},        {"dilations", dilations}, {"batchnorm", batchnorm},
            {"activation", activation},    {"groups", groups},       {"in_channels", in_channels},
            {"out_channels", out_channels}};
  }
  int block_inputs(const size_t block) const { return block == 0 ? in_channels : channels; }

  /// Seeded weights in the file's order; batch-norm variances are positive and eps is small.
  std::vector<float> weights(const unsigned seed) const {
    std::vector<float> all;
    const auto append = [&](const std::vector<float>& part) {
      all.insert(all.end(), part.begin(), part.end());
    };
    for (size_t b = 0; b < dilations.size(); ++b) {
      append(random_weights(2 * channels * (block_inputs(b) / groups), seed + 10 * b));
      if (batchnorm) {
        append(random_weights(channels, seed + 10 * b + 1, 0.2f)); // running mean
        std::vector<float> variance = random_weights(channels, seed + 10 * b + 2);
        for (float& v : variance)
          v = std::fabs(v) + 0.05f;
        append(variance);
        append(random_weights(2 * channels, seed + 10 * b + 3)); // gamma, beta
        all.push_back(1e-5f);
      } else {
        append(random_weights(channels, seed + 10 * b + 1, 0.2f));
      }
    }
    append(random_weights(out_channels * channels + out_channels, seed + 999));
    return all;
  }
};

/// The textbook ConvNet, one frame at a time over the whole input history; batch norm in double precision
/// straight from its definition.
std::vector<double> naive_convnet(const ConvNetShape& shape, const std::vector<float>& weights,
                                  const std::vector<double>& input) {
  const size_t frames = input.size();
  auto activation = nam::activations::Activation::get_activation(shape.activation);
  // values[c][t]: the current block's input, channel c, frame t (silence before frame 0).
  std::vector<std::vector<float>> values(shape.in_channels, std::vector<float>(frames));
  for (auto& channel : values)
    for (size_t t = 0; t < frames; ++t)
      channel[t] = static_cast<float>(input[t]);
  size_t next = 0;
  for (size_t b = 0; b < shape.dilations.size(); ++b) {
    const int inputs = shape.block_inputs(b);
    const int per_group_in = inputs / shape.groups;
    const int per_group_out = shape.channels / shape.groups;
    const int d = shape.dilations[b];
    const float* conv = weights.data() + next;
    next += 2 * shape.channels * per_group_in;
    const float* params = weights.data() + next;
    next += shape.batchnorm ? 4 * shape.channels + 1 : shape.channels;
    std::vector<std::vector<float>> out(shape.channels, std::vector<float>(frames));
    for (size_t t = 0; t < frames; ++t) {
      std::vector<float> column(shape.channels);
      for (int o = 0; o < shape.channels; ++o) {
        float past = 0.0f, now = 0.0f;
        for (int j = 0; j < per_group_in; ++j) {
          const int c = (o / per_group_out) * per_group_in + j;
          past += conv[(o * per_group_in + j) * 2] * (t >= static_cast<size_t>(d) ? values[c][t - d] : 0.0f);
          now += conv[(o * per_group_in + j) * 2 + 1] * values[c][t];
        }
        double z = past + now;
        if (shape.batchnorm) {
          const int C = shape.channels;
          const double mean = params[o], variance = params[C + o], gamma = params[2 * C + o];
          const double beta = params[3 * C + o], eps = params[4 * C];
          z = (z - mean) / std::sqrt(variance + eps) * gamma + beta;
        } else {
          z += params[o];
        }
        column[o] = static_cast<float>(z);
      }
      activation->apply_planar(column.data(), shape.channels, 1, 1);
      for (int o = 0; o < shape.channels; ++o)
        out[o][t] = column[o];
    }
    values = std::move(out);
  }
  std::vector<double> result(frames * shape.out_channels);
  const float* head = weights.data() + next;
  for (int o = 0; o < shape.out_channels; ++o)
    for (size_t t = 0; t < frames; ++t) {
      double sum = head[shape.out_channels * shape.channels + o];
      for (int j = 0; j < shape.channels; ++j)
        sum += head[o * shape.channels + j] * values[j][t];
      result[o * frames + t] = sum;
    }
  return result;
}

std::vector<ConvNetShape> reference_shapes() {
  ConvNetShape plain;
  plain.channels = 4;
  plain.dilations = {1, 2, 4, 8};
  ConvNetShape normalised;
  normalised.channels = 8;
  normalised.dilations = {1, 2, 0, 3};
  normalised.batchnorm = true;
  normalised.activation = {{"type", "LeakyHardtanh"},
                           {"min_val", -0.5},
                           {"max_val", 0.7},
                           {"min_slope", 0.1},
                           {"max_slope", 0.05}};
  normalised.in_channels = 2;
  normalised.out_channels = 3;
  ConvNetShape grouped;
  grouped.channels = 6;
  grouped.dilations = {2, 5};
  grouped.activation = "ReLU";
  grouped.groups = 2;
  grouped.in_channels = 2;
  ConvNetShape depthwise;
  depthwise.channels = 3;
  depthwise.dilations = {1, 16};
  depthwise.batchnorm = true;
  depthwise.activation = "Sigmoid";
  depthwise.groups = 3;
  depthwise.in_channels = 3;
  return {plain, normalised, grouped, depthwise};
}

TEST(ConvNet, MatchesNaiveConvNet) {
  unsigned seed = 20;
  for (const ConvNetShape& shape : reference_shapes()) {
    SCOPED_TRACE(shape.config().dump());
    const std::vector<float> weights = shape.weights(seed++);
    auto model = nam::get_dsp(nam_object("ConvNet", shape.config(), weights));
    model->SetPrewarmOnReset(false);
    model->Reset(48000.0, 64);
    const std::vector<double> input = test_signal(1500);
    const std::vector<double> expected = naive_convnet(shape, weights, input);
    EXPECT_LE(max_difference(run_blocks(*model, input, 37), expected), 1e-5);
  }
}

TEST(ConvNet, BatchNormFoldsWithTheOriginalsArithmetic) {
  // scale = gamma / sqrt(eps + var): single-precision sum, double-precision square root and division. Find
  // inputs where that differs from all-float arithmetic, so the check below can tell the two apart.
  std::vector<float> params = random_weights(5000, 77, 2.0f);
  size_t found = 0;
  for (size_t i = 0; i + 1 < params.size(); i += 2) {
    const float gamma = params[i], spread = std::fabs(params[i + 1]) + 1e-3f;
    const float original = static_cast<float>(gamma / std::sqrt(static_cast<double>(spread)));
    if (original == gamma / std::sqrt(spread))
      continue;
    const std::vector<float> weights = {0.25f, spread, gamma, 0.5f, 0.0f}; // mean, var, gamma, beta, eps
    auto it = weights.begin();
    const nam::convnet::BatchNorm norm(1, it);
    EXPECT_EQ(it, weights.end());
    EXPECT_EQ(norm.scale(0), original);
    EXPECT_EQ(norm.shift(0), 0.5f - original * 0.25f);
    ++found;
  }
  EXPECT_GT(found, 0u);
}

TEST(ConvNet, OutputDoesNotDependOnTheBlockSize) {
  // Templated kernels sum each frame in a fixed order, so a model whose convolutions all have one gives the
  // same output at every block size. The generic (Eigen) products of shapes without a kernel (the
  // batchnorm model's 8 <- 2 and 3 <- 8) sum in an order that depends on the block size, as in the original
  // (its blocks of 1 differ by about 1e-7), so that model matches up to rounding.
  struct Case {
    ConvNetShape shape;
    double tolerance;
    int prewarm_samples;
  };
  const Case cases[] = {{reference_shapes()[0], 0.0, 1 + 1 + 2 + 4 + 8},
                        {reference_shapes()[1], 1e-6, 1 + 1 + 2 + 0 + 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shape.config().dump());
    auto model = nam::get_dsp(nam_object("ConvNet", c.shape.config(), c.shape.weights(5)));
    EXPECT_EQ(model->GetPrewarmSamples(), c.prewarm_samples);
    const std::vector<double> input = test_signal(2000);
    model->Reset(48000.0, 64);
    const std::vector<double> reference = run_blocks(*model, input, 64);
    for (const int block : {1, 7, 63, 65, 300}) {
      model->Reset(48000.0, 64); // blocks above 64 are processed in pieces
      EXPECT_LE(max_difference(run_blocks(*model, input, block), reference), c.tolerance)
          << "block " << block;
      model->Reset(48000.0, block);
      EXPECT_LE(max_difference(run_blocks(*model, input, block), reference), c.tolerance)
          << "block " << block;
    }
  }
}

TEST(ConvNet, ResetClearsTheHistory) {
  const ConvNetShape shape = reference_shapes()[0];
  const nlohmann::json file = nam_object("ConvNet", shape.config(), shape.weights(6));
  auto model = nam::get_dsp(file);
  const std::vector<double> input = test_signal(1000);
  model->Reset(48000.0, 64);
  const std::vector<double> first = run_blocks(*model, input, 64);
  model->Reset(48000.0, 64);
  EXPECT_EQ(max_difference(run_blocks(*model, input, 64), first), 0.0);
  auto fresh = nam::get_dsp(file);
  fresh->Reset(48000.0, 64);
  EXPECT_EQ(max_difference(run_blocks(*fresh, input, 64), first), 0.0);
}

TEST(ConvNet, ProcessDoesNotAllocate) {
  if (!AllocationScope::available())
    GTEST_SKIP() << "allocation tracking is not available in this build";
  for (const ConvNetShape& shape : reference_shapes()) {
    auto model = nam::get_dsp(nam_object("ConvNet", shape.config(), shape.weights(7)));
    model->Reset(48000.0, 64);
    ChannelBuffers in(shape.in_channels, 1000), out(shape.out_channels, 1000);
    const AllocationScope scope;
    for (int i = 0; i < 20; ++i) // enough blocks to rewind every history
      model->process(in.pointers(), out.pointers(), 64);
    model->process(in.pointers(), out.pointers(), 1);
    model->process(in.pointers(), out.pointers(), 1000); // larger than the Reset size
    EXPECT_EQ(scope.allocations(), 0);
    EXPECT_EQ(scope.deallocations(), 0);
  }
}

TEST(ConvNetConfig, ErrorsNameTheKey) {
  const ConvNetShape shape;
  const auto error_for = [&](const nlohmann::json& config) {
    return runtime_error_message([&] { nam::get_dsp(nam_object("ConvNet", config, shape.weights(1))); });
  };
  const auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json config = shape.config();
    if (value.is_null())
      config.erase(key);
    else
      config[key] = value;
    return error_for(config);
  };
  EXPECT_TRUE(contains(with("channels", nullptr), "config.channels"));
  EXPECT_TRUE(contains(with("batchnorm", nullptr), "config.batchnorm"));
  EXPECT_TRUE(contains(with("batchnorm", "yes"), "config.batchnorm"));
  EXPECT_TRUE(contains(with("dilations", nlohmann::json::array()), "config.dilations: must not be empty"));
  EXPECT_TRUE(contains(with("dilations", {1, -2}), "config.dilations[1]"));
  EXPECT_TRUE(contains(with("dilations", {1 << 30}), "config.dilations[0]"));
  EXPECT_TRUE(contains(with("activation", "Nope"), "Unknown activation type: Nope"));
  EXPECT_TRUE(
      contains(with("groups", 2), "config.groups: in_channels (1) must be divisible by numGroups (2)"));
  nlohmann::json odd = shape.config();
  odd["channels"] = 6;
  odd["groups"] = 4;
  odd["in_channels"] = 4;
  EXPECT_TRUE(contains(error_for(odd), "config.groups: out_channels (6) must be divisible by numGroups (4)"));
  nlohmann::json huge = shape.config();
  huge["channels"] = 1024;
  huge["dilations"] = std::vector<int>(20, 1 << 20);
  EXPECT_TRUE(contains(error_for(huge), "config.dilations: the blocks would keep"));
}

TEST(ConvNetConfig, WrongWeightCountIsRefused) {
  const ConvNetShape shape;
  for (const int extra : {-1, 1}) {
    std::vector<float> weights = shape.weights(3);
    weights.resize(weights.size() + extra, 0.0f);
    EXPECT_TRUE(
        contains(runtime_error_message([&] { nam::get_dsp(nam_object("ConvNet", shape.config(), weights)); }),
                 "Didn't touch all the weights when initializing ConvNet"));
  }
}

} // namespace
} // namespace nam_test
