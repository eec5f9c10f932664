// The partitioned FFT convolution behind long Linear models, against the direct sum.
#include <vector>

#include <gtest/gtest.h>

#include "NAM/linear.h"
#include "NAM/partitioned_convolution.h"
#include "allocation_tracking.h"
#include "kernel_reference.h"

namespace {

std::vector<double> direct(const std::vector<float>& taps, const std::vector<double>& x, const float bias) {
  std::vector<double> y(x.size());
  for (size_t t = 0; t < x.size(); ++t) {
    double sum = bias;
    for (size_t j = 0; j < taps.size() && j <= t; ++j)
      sum += static_cast<double>(taps[j]) * x[t - j];
    y[t] = sum;
  }
  return y;
}

struct Case {
  int taps;
  int partition;
};

class PartitionedConvolutionMatchesDirect : public testing::TestWithParam<Case> {};

TEST_P(PartitionedConvolutionMatchesDirect, AtIrregularBlockSizes) {
  const auto [length, partition] = GetParam();
  const std::vector<float> taps = nam_tools::random_values(static_cast<long>(length), 1);
  std::vector<double> x(5000);
  const std::vector<float> source = nam_tools::random_values(static_cast<long>(x.size()), 2);
  std::copy(source.begin(), source.end(), x.begin());
  const std::vector<double> expected = direct(taps, x, 0.25f);

  nam::PartitionedConvolution convolution;
  convolution.configure(taps, partition, 2);
  std::vector<double> y(x.size());
  const int blocks[] = {1, 63, 64, 65, 300, 7, 1024};
  size_t t = 0;
  for (size_t b = 0; t < x.size(); ++b) {
    const int n = static_cast<int>(std::min<size_t>(blocks[b % std::size(blocks)], x.size() - t));
    nam_test::AllocationScope scope;
    convolution.process(1, x.data() + t, y.data() + t, n, 0.25f);
    if (nam_test::AllocationScope::available()) {
      ASSERT_EQ(scope.allocations(), 0);
    }
    t += n;
  }
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(y[i] - expected[i]));
  EXPECT_LT(worst, 2e-5 * std::sqrt(static_cast<double>(length)));

  convolution.reset();
  std::vector<double> again(x.size());
  convolution.process(1, x.data(), again.data(), static_cast<int>(x.size()), 0.25f);
  EXPECT_EQ(again, y); // reset returns to silence; block sizes do not change the arithmetic
}

INSTANTIATE_TEST_SUITE_P(Lengths, PartitionedConvolutionMatchesDirect,
                         testing::Values(Case{1, 16}, Case{16, 16}, Case{17, 16}, Case{32, 16},
                                         Case{257, 256}, Case{1000, 256}, Case{4096, 512}, Case{4100, 1024}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return "taps" + std::to_string(info.param.taps) + "_partition" +
                                  std::to_string(info.param.partition);
                         });

TEST(LinearImplementation, AutoSwitchesToFftForLongResponsesAndMatchesDirect) {
  const std::vector<float> weights = nam_tools::random_values(1537, 4); // 1536 taps and a bias
  nam::Linear automatic(1, 1, 1536, true, weights, 48000, nam::LinearImplementation::Auto);
  nam::Linear direct_model(1, 1, 1536, true, weights, 48000, nam::LinearImplementation::Direct);
  automatic.Reset(48000, 128);
  direct_model.Reset(48000, 128);
  EXPECT_EQ(automatic.GetActiveImplementation(), nam::LinearImplementation::FFT);
  EXPECT_EQ(direct_model.GetActiveImplementation(), nam::LinearImplementation::Direct);
  std::vector<NAM_SAMPLE> x(4000), a(4000), b(4000);
  const std::vector<float> source = nam_tools::random_values(static_cast<long>(x.size()), 5);
  std::copy(source.begin(), source.end(), x.begin());
  for (int t = 0; t < 4000; t += 100) {
    NAM_SAMPLE* in = x.data() + t;
    NAM_SAMPLE* out_a = a.data() + t;
    NAM_SAMPLE* out_b = b.data() + t;
    automatic.process(&in, &out_a, 100);
    direct_model.process(&in, &out_b, 100);
  }
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 5e-5) << i;

  nam::Linear short_model(1, 1, 256, false, nam_tools::random_values(256, 6), 48000,
                          nam::LinearImplementation::Auto);
  short_model.Reset(48000, 64);
  EXPECT_EQ(short_model.GetActiveImplementation(), nam::LinearImplementation::Direct);
}

} // namespace
