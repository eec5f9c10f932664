// Conv1x1 and Conv1D against straightforward loops over the weight list in the file format's order.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/conv1d.h"
#include "NAM/dsp.h"
#include "allocation_tracking.h"
#include "kernel_reference.h"

namespace {

// y[o][t] = b[o] + sum over the group's inputs i and taps k of w[o][i][k] * x[i][t - (K-1-k)*d], with x = 0
// before frame 0. Weights are read in PyTorch order (out, in/groups, K), then the bias.
Eigen::MatrixXf naive_conv(const Eigen::MatrixXf& x, const std::vector<float>& w, const int out,
                           const int kernel, const int dilation, const int groups, const bool bias) {
  const int in = static_cast<int>(x.rows());
  const int in_per_group = in / groups;
  const int out_per_group = out / groups;
  Eigen::MatrixXf y = Eigen::MatrixXf::Zero(out, x.cols());
  const size_t bias_start = static_cast<size_t>(out) * in_per_group * kernel;
  for (int o = 0; o < out; ++o)
    for (long t = 0; t < x.cols(); ++t) {
      double sum = bias ? w[bias_start + o] : 0.0;
      for (int i = 0; i < in_per_group; ++i)
        for (int k = 0; k < kernel; ++k) {
          const long source = t - static_cast<long>(kernel - 1 - k) * dilation;
          if (source >= 0)
            sum += static_cast<double>(w[(static_cast<size_t>(o) * in_per_group + i) * kernel + k]) *
                   x((o / out_per_group) * in_per_group + i, source);
        }
      y(o, t) = static_cast<float>(sum);
    }
  return y;
}

struct ConvShape {
  int in, out, kernel, dilation, groups;
  bool bias;
};

std::string shape_name(const testing::TestParamInfo<ConvShape>& info) {
  const ConvShape& s = info.param;
  return "i" + std::to_string(s.in) + "o" + std::to_string(s.out) + "k" + std::to_string(s.kernel) + "d" +
         std::to_string(s.dilation) + "g" + std::to_string(s.groups) + (s.bias ? "b" : "");
}

class Conv1DMatchesNaive : public testing::TestWithParam<ConvShape> {};

TEST_P(Conv1DMatchesNaive, AcrossIrregularBlocks) {
  const ConvShape s = GetParam();
  nam::Conv1D conv(s.in, s.out, s.kernel, s.bias, s.dilation, s.groups);
  std::vector<float> weights = nam_tools::random_values(conv.get_num_weights(), 7);
  auto it = weights.begin();
  conv.set_weights_(it);
  ASSERT_EQ(it, weights.end());
  const int max_block = 65;
  conv.SetMaxBufferSize(max_block);

  const long frames = 700;
  const std::vector<float> signal = nam_tools::random_values(static_cast<long>(s.in) * frames, 3);
  const Eigen::MatrixXf x = Eigen::Map<const Eigen::MatrixXf>(signal.data(), s.in, frames);
  const Eigen::MatrixXf expected = naive_conv(x, weights, s.out, s.kernel, s.dilation, s.groups, s.bias);

  const int blocks[] = {1, 2, 63, 64, 65, 17, 5, 65, 64};
  long t = 0;
  for (size_t b = 0; t < frames; ++b) {
    const int n = static_cast<int>(std::min<long>(blocks[b % std::size(blocks)], frames - t));
    const Eigen::MatrixXf block = x.middleCols(t, n);
    nam_test::AllocationScope scope;
    conv.Process(block, n);
    if (nam_test::AllocationScope::available()) {
      ASSERT_EQ(scope.allocations(), 0);
    }
    const float error = (conv.GetOutput().leftCols(n) - expected.middleCols(t, n)).cwiseAbs().maxCoeff();
    ASSERT_LT(error, 1e-5f) << "block starting at frame " << t;
    t += n;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv1DMatchesNaive,
                         testing::Values(ConvShape{1, 1, 1, 1, 1, true}, ConvShape{3, 5, 3, 2, 1, true},
                                         ConvShape{8, 8, 3, 7, 1, true}, ConvShape{8, 16, 2, 64, 2, true},
                                         ConvShape{8, 8, 4, 3, 4, false}, ConvShape{6, 6, 3, 5, 6, true},
                                         ConvShape{4, 4, 3, 0, 1, true}, ConvShape{16, 8, 6, 1, 8, true},
                                         ConvShape{2, 4, 15, 13, 2, false}),
                         shape_name);

// A producer may compute the next input where the convolution keeps it (input_block); the outputs must be
// those of passing the same input as a separate matrix, through the history's rewinds (a dilation whose
// lookback is long next to the room, and block sizes that change), and a block asked for but then not used
// (the input passed from elsewhere, or a different frame count) must change nothing.
TEST(Conv1D, InputComputedInPlaceGivesTheSameOutputs) {
  for (const int dilation : {1, 7, 40}) {
    SCOPED_TRACE("dilation " + std::to_string(dilation));
    nam::Conv1D in_place(3, 4, 3, true, dilation, 1), copied(3, 4, 3, true, dilation, 1);
    std::vector<float> weights = nam_tools::random_values(in_place.get_num_weights(), 11);
    auto it = weights.begin();
    in_place.set_weights_(it);
    it = weights.begin();
    copied.set_weights_(it);
    in_place.SetMaxBufferSize(64);
    copied.SetMaxBufferSize(64);
    const Eigen::MatrixXf x = nam_tools::random_matrix(3, 3000, 12);
    const int blocks[] = {64, 64, 1, 63, 17, 17, 64, 5, 40};
    long t = 0;
    for (size_t b = 0; t + 64 <= x.cols(); ++b) {
      const int n = blocks[b % std::size(blocks)];
      const Eigen::MatrixXf input = x.middleCols(t, n);
      copied.Process(input, n);
      if (b % 5 == 3) {
        in_place.input_block(n + 1); // asked for, then the input comes from elsewhere with another count
        in_place.Process(input, n);
      } else if (b % 5 == 4) {
        in_place.input_block(n); // asked for, then the input comes from elsewhere
        in_place.Process(input, n);
      } else {
        nam_test::AllocationScope scope;
        Eigen::Map<Eigen::MatrixXf> block(in_place.input_block(n), 3, n);
        block = input;
        in_place.Process(block, n);
        if (nam_test::AllocationScope::available()) {
          ASSERT_EQ(scope.allocations(), 0);
        }
      }
      ASSERT_TRUE(in_place.GetOutput().leftCols(n) == copied.GetOutput().leftCols(n)) << "frame " << t;
      t += n;
    }
  }
}

TEST(Conv1D, StatelessProcessMatchesStreaming) {
  nam::Conv1D conv(4, 6, 3, true, 2, 2);
  std::vector<float> weights = nam_tools::random_values(conv.get_num_weights(), 11);
  auto it = weights.begin();
  conv.set_weights_(it);
  const std::vector<float> signal = nam_tools::random_values(4 * 40, 12);
  const Eigen::MatrixXf x = Eigen::Map<const Eigen::MatrixXf>(signal.data(), 4, 40);
  Eigen::MatrixXf out = Eigen::MatrixXf::Zero(6, 40);
  conv.process_(x, out, 4, 36, 4); // columns 4..39; taps reach back 4 columns
  const Eigen::MatrixXf expected = naive_conv(x, weights, 6, 3, 2, 2, true);
  EXPECT_LT((out.rightCols(36) - expected.rightCols(36)).cwiseAbs().maxCoeff(), 1e-5f);
}

TEST(Conv1D, SetMaxBufferSizeClearsHistory) {
  nam::Conv1D conv(1, 1, 2, false, 1);
  std::vector<float> weights{1.0f, 1.0f};
  auto it = weights.begin();
  conv.set_weights_(it);
  conv.SetMaxBufferSize(4);
  Eigen::MatrixXf ones = Eigen::MatrixXf::Ones(1, 4);
  conv.Process(ones, 4);
  EXPECT_FLOAT_EQ(conv.GetOutput()(0, 0), 1.0f); // zero history
  EXPECT_FLOAT_EQ(conv.GetOutput()(0, 3), 2.0f);
  conv.SetMaxBufferSize(4);
  conv.Process(ones, 1);
  EXPECT_FLOAT_EQ(conv.GetOutput()(0, 0), 1.0f);
}

TEST(Conv1D, PrewarmCacheRestoresConvergedHistory) {
  nam::Conv1D conv(2, 2, 3, true, 2);
  std::vector<float> weights = nam_tools::random_values(conv.get_num_weights(), 5);
  auto it = weights.begin();
  conv.set_weights_(it);
  conv.SetMaxBufferSize(8);
  Eigen::MatrixXf constant = Eigen::MatrixXf::Constant(2, 8, 0.25f);
  conv.Process(constant, 8);
  const Eigen::MatrixXf converged = conv.GetOutput();
  conv.CacheStateAsPrewarmed();
  ASSERT_TRUE(conv.HasCachedPrewarmState());
  conv.SetMaxBufferSize(8);
  conv.PrewarmFromCache();
  conv.Process(constant, 1);
  EXPECT_LT((conv.GetOutput().col(0) - converged.col(7)).cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(Conv1D, RejectsBadShapes) {
  EXPECT_THROW(nam::Conv1D(6, 4, 3, true, 1, 4), std::runtime_error);
  EXPECT_THROW(nam::Conv1D(4, 6, 3, true, 1, 4), std::runtime_error);
  EXPECT_THROW(nam::Conv1D(4, 4, 0, true, 1), std::runtime_error);
  EXPECT_THROW(nam::Conv1D(4, 4, 3, true, -1), std::runtime_error);
  EXPECT_THROW(nam::Conv1D(4, 4, 3, true, 1, 0), std::runtime_error);
  try {
    nam::Conv1D(6, 4, 3, true, 1, 4);
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "in_channels (6) must be divisible by numGroups (4)");
  }
}

TEST(Conv1D, ReportsItsShape) {
  nam::Conv1D conv(8, 16, 3, true, 5, 4);
  EXPECT_EQ(conv.get_in_channels(), 8);
  EXPECT_EQ(conv.get_out_channels(), 16);
  EXPECT_EQ(conv.get_kernel_size(), 3);
  EXPECT_EQ(conv.get_dilation(), 5);
  EXPECT_TRUE(conv.has_bias());
  EXPECT_EQ(conv.get_num_weights(), 16 * 2 * 3 + 16);
}

class Conv1x1MatchesNaive : public testing::TestWithParam<ConvShape> {};

TEST_P(Conv1x1MatchesNaive, AnyFrameCountAndStridedInput) {
  const ConvShape s = GetParam();
  nam::Conv1x1 conv(s.in, s.out, s.bias, s.groups);
  std::vector<float> weights = nam_tools::random_values(conv.get_num_weights(), 21);
  auto it = weights.begin();
  conv.set_weights_(it);
  ASSERT_EQ(it, weights.end());
  conv.SetMaxBufferSize(65);
  // The input is the lower rows of a taller matrix, so its columns are strided.
  const std::vector<float> signal = nam_tools::random_values(static_cast<long>(s.in + 3) * 65, 22);
  const Eigen::MatrixXf tall = Eigen::Map<const Eigen::MatrixXf>(signal.data(), s.in + 3, 65);
  const Eigen::MatrixXf x = tall.bottomRows(s.in);
  const Eigen::MatrixXf expected = naive_conv(x, weights, s.out, 1, 1, s.groups, s.bias);
  for (const int n : {1, 2, 63, 64, 65}) {
    nam_test::AllocationScope scope;
    conv.process_(tall.bottomRows(s.in), n);
    if (nam_test::AllocationScope::available()) {
      EXPECT_EQ(scope.allocations(), 0);
    }
    EXPECT_LT((conv.GetOutput().leftCols(n) - expected.leftCols(n)).cwiseAbs().maxCoeff(), 1e-5f) << n;
    // process_into_ writes the same values into the caller's memory, and nothing around them. The kernels
    // round alike at any output stride; the generic path's Eigen products may not in a build that fuses
    // multiply-adds (NAM_NATIVE: which rows it vectorizes depends on the destination's alignment).
    Eigen::MatrixXf destination = Eigen::MatrixXf::Constant(s.out + 1, n + 1, 12345.0f);
    conv.process_into_(tall.bottomRows(s.in), destination.topRows(s.out), n);
    const bool any_stride_rounds_alike =
        std::string(conv.kernel_name()) != nam::kernels::kConv1x1GenericName ||
        !NAM_KERNELS_FUSE_MULTIPLY_ADD;
    const float tolerance = any_stride_rounds_alike ? 0.0f : 1e-6f;
    EXPECT_LE((destination.topLeftCorner(s.out, n) - conv.GetOutput().leftCols(n)).cwiseAbs().maxCoeff(),
              tolerance)
        << n;
    EXPECT_TRUE((destination.bottomRows(1).array() == 12345.0f).all()) << n;
    EXPECT_TRUE((destination.rightCols(1).array() == 12345.0f).all()) << n;
  }
  const Eigen::MatrixXf copy = conv.process(x);
  EXPECT_LT((copy - expected).cwiseAbs().maxCoeff(), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv1x1MatchesNaive,
                         testing::Values(ConvShape{1, 8, 1, 1, 1, false}, ConvShape{8, 8, 1, 1, 1, true},
                                         ConvShape{16, 8, 1, 1, 2, true}, ConvShape{8, 16, 1, 1, 4, false},
                                         ConvShape{12, 12, 1, 1, 12, true}, ConvShape{6, 3, 1, 1, 3, true},
                                         ConvShape{3, 1, 1, 1, 1, true}),
                         shape_name);

TEST(Conv1x1, RejectsGroupsThatDoNotDivide) {
  EXPECT_THROW(nam::Conv1x1(6, 4, true, 4), std::runtime_error);
  EXPECT_THROW(nam::Conv1x1(4, 6, true, 4), std::runtime_error);
  EXPECT_THROW(nam::Conv1x1(4, 4, true, 0), std::runtime_error);
  EXPECT_THROW(nam::Conv1x1(0, 4, true, 1), std::runtime_error);
}

} // namespace
