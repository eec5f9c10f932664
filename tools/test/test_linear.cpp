// The Linear architecture against a naive FIR filter: block sizes around and beyond the prepared size,
// bias, several channels, Reset, in-place use and no allocation in process().

#include <random>

#include <gtest/gtest.h>

#include "NAM/get_dsp.h"
#include "NAM/linear.h"
#include "allocation_tracking.h"
#include "model_builders.h"

namespace nam_test {
namespace {

constexpr int kMaxBlock = 128;
constexpr double kTolerance = 2e-6; // float arithmetic against a double reference, |signal| < 1

std::vector<float> random_taps(const int n, const unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> taps(static_cast<size_t>(n));
  for (float& t : taps)
    t = dist(rng) / static_cast<float>(n);
  return taps;
}

std::vector<double> random_signal(const int n, const unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x)
    v = dist(rng);
  return x;
}

// Runs a mono signal through the model in consecutive blocks of `block` frames.
std::vector<double> run_blocks(nam::DSP& dsp, const std::vector<double>& x, const int block) {
  const int n = static_cast<int>(x.size());
  ChannelBuffers in(1, n), out(dsp.NumOutputChannels(), n);
  std::copy(x.begin(), x.end(), in[0].begin());
  for (int start = 0; start < n; start += block)
    dsp.process(in.pointers_at(start), out.pointers_at(start), std::min(block, n - start));
  return {out[0].begin(), out[0].end()};
}

void expect_matches(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], kTolerance) << "sample " << i;
}

TEST(Linear, ImpulseResponseOrderFollowsTheOriginal) {
  // weights[0] multiplies the current sample.
  auto dsp = nam::get_dsp(linear_model({0.5f, -0.25f, 0.125f}));
  dsp->Reset(48000.0, 4);
  const std::vector<double> y = run_blocks(*dsp, {1, 2, 3, 4}, 4);
  EXPECT_EQ(y, (std::vector<double>{0.5, 0.75, 1.125, 1.5}));
}

class LinearBlocks : public ::testing::TestWithParam<int> {};

TEST_P(LinearBlocks, MatchesANaiveFir) {
  const int block = GetParam();
  for (const int taps_count : {1, 2, 17, 64, 300}) {
    for (const bool with_bias : {false, true}) {
      const std::vector<float> taps = random_taps(taps_count, 7 + taps_count);
      const float bias = with_bias ? 0.125f : 0.0f;
      auto dsp = nam::get_dsp(with_bias ? linear_model(taps, bias) : linear_model(taps));
      dsp->Reset(48000.0, kMaxBlock);
      const std::vector<double> x = random_signal(1500, 3);
      SCOPED_TRACE("taps " + std::to_string(taps_count) + (with_bias ? " with bias" : ""));
      expect_matches(run_blocks(*dsp, x, block), naive_fir(x, taps, bias));
    }
  }
}

TEST_P(LinearBlocks, ProcessDoesNotAllocate) {
  if (!AllocationScope::available())
    GTEST_SKIP() << "allocation tracking is not available in this build";
  auto dsp = nam::get_dsp(linear_model(random_taps(33, 1), 0.5f, 2, 2));
  dsp->Reset(48000.0, kMaxBlock);
  const int n = 1200;
  ChannelBuffers in(2, n), out(2, n);
  AllocationScope scope;
  for (int start = 0; start < n; start += GetParam())
    dsp->process(in.pointers_at(start), out.pointers_at(start), std::min(GetParam(), n - start));
  EXPECT_EQ(scope.allocations(), 0);
  EXPECT_EQ(scope.deallocations(), 0);
}

INSTANTIATE_TEST_SUITE_P(Linear, LinearBlocks,
                         ::testing::Values(1, 2, 63, 64, 65, kMaxBlock, kMaxBlock + 1, 1000));

TEST(Linear, VaryingBlockSizesMatchOneLongBlock) {
  const std::vector<float> taps = random_taps(40, 11);
  auto dsp = nam::get_dsp(linear_model(taps, -0.25f));
  dsp->Reset(48000.0, 64);
  const std::vector<double> x = random_signal(2000, 5);
  const int n = static_cast<int>(x.size());
  ChannelBuffers in(1, n), out(1, n);
  std::copy(x.begin(), x.end(), in[0].begin());
  const int pattern[] = {1, 5, 64, 3, 200, 63, 65, 17, 1, 2};
  int start = 0;
  for (int i = 0; start < n; ++i) {
    const int block = std::min(pattern[i % 10], n - start);
    dsp->process(in.pointers_at(start), out.pointers_at(start), block);
    start += block;
  }
  expect_matches({out[0].begin(), out[0].end()}, naive_fir(x, taps, -0.25));
}

TEST(Linear, ZeroTapsGiveTheBias) {
  auto dsp = nam::get_dsp(linear_model({}, 0.75f));
  dsp->Reset(48000.0, 8);
  for (const double y : run_blocks(*dsp, random_signal(20, 1), 8))
    EXPECT_EQ(y, 0.75);
}

TEST(Linear, EveryChannelIsFilteredAndExtraOutputsAreSilent) {
  const std::vector<float> taps = random_taps(9, 2);
  auto dsp = nam::get_dsp(linear_model(taps, 0.5f, 2, 3));
  ASSERT_EQ(dsp->NumInputChannels(), 2);
  ASSERT_EQ(dsp->NumOutputChannels(), 3);
  dsp->Reset(48000.0, 32);
  const int n = 200;
  const std::vector<double> x0 = random_signal(n, 8), x1 = random_signal(n, 9);
  ChannelBuffers in(2, n), out(3, n);
  std::copy(x0.begin(), x0.end(), in[0].begin());
  std::copy(x1.begin(), x1.end(), in[1].begin());
  for (int i = 0; i < n; ++i)
    out[2][i] = 42;
  for (int start = 0; start < n; start += 50)
    dsp->process(in.pointers_at(start), out.pointers_at(start), 50);
  expect_matches({out[0].begin(), out[0].end()}, naive_fir(x0, taps, 0.5));
  expect_matches({out[1].begin(), out[1].end()}, naive_fir(x1, taps, 0.5));
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(out[2][i], 0.0);
}

TEST(Linear, ExtraInputChannelsAreIgnored) {
  const std::vector<float> taps = {1.0f, 0.5f};
  auto dsp = nam::get_dsp(linear_model(taps, std::nullopt, 3, 1));
  dsp->Reset(48000.0, 16);
  const int n = 16;
  const std::vector<double> x = random_signal(n, 4);
  ChannelBuffers in(3, n), out(1, n);
  std::copy(x.begin(), x.end(), in[0].begin());
  for (int i = 0; i < n; ++i)
    in[1][i] = in[2][i] = 100.0;
  dsp->process(in.pointers(), out.pointers(), n);
  expect_matches({out[0].begin(), out[0].end()}, naive_fir(x, taps));
}

TEST(Linear, ResetClearsTheHistory) {
  auto dsp = nam::get_dsp(linear_model({0.0f, 0.0f, 0.0f, 1.0f}, 0.25f));
  dsp->Reset(48000.0, 8);
  run_blocks(*dsp, {1.0, 1.0, 1.0}, 3);
  dsp->Reset(48000.0, 8);
  for (const double y : run_blocks(*dsp, std::vector<double>(6, 0.0), 6))
    EXPECT_EQ(y, 0.25);
  // Also when Reset changes the block size.
  run_blocks(*dsp, {1.0, 1.0, 1.0}, 3);
  dsp->Reset(48000.0, 512);
  for (const double y : run_blocks(*dsp, std::vector<double>(6, 0.0), 6))
    EXPECT_EQ(y, 0.25);
}

TEST(Linear, HistorySurvivesManyBlocksWithoutReset) {
  // A long run forces the history buffer to wrap many times.
  const std::vector<float> taps = random_taps(100, 21);
  auto dsp = nam::get_dsp(linear_model(taps));
  dsp->Reset(48000.0, 16);
  const std::vector<double> x = random_signal(20000, 6);
  expect_matches(run_blocks(*dsp, x, 16), naive_fir(x, taps));
}

TEST(Linear, InPlaceProcessingWorks) {
  const std::vector<float> taps = random_taps(12, 3);
  auto dsp = nam::get_dsp(linear_model(taps, 0.1f));
  dsp->Reset(48000.0, 64);
  const std::vector<double> x = random_signal(500, 12);
  std::vector<NAM_SAMPLE> buffer(x.begin(), x.end());
  for (size_t start = 0; start < buffer.size(); start += 100) {
    NAM_SAMPLE* channel = buffer.data() + start;
    dsp->process(&channel, &channel, 100);
  }
  expect_matches({buffer.begin(), buffer.end()}, naive_fir(x, taps, 0.1));
}

TEST(Linear, EveryImplementationComputesTheSameFilter) {
  const std::vector<float> taps = random_taps(600, 5);
  const std::vector<double> x = random_signal(3000, 13);
  const std::vector<double> expected = naive_fir(x, taps, 0.2);
  for (const char* implementation : {"auto", "direct", "fft"}) {
    nlohmann::json model = linear_model(taps, 0.2f);
    model["config"]["implementation"] = implementation;
    auto dsp = nam::get_dsp(model);
    dsp->Reset(48000.0, 256);
    SCOPED_TRACE(implementation);
    const std::vector<double> y = run_blocks(*dsp, x, 256);
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], expected[i], 1e-5) << i; // FFT rounding allowed
  }
}

TEST(Linear, ConstructorChecksTheWeightCount) {
  EXPECT_NO_THROW(nam::Linear(1, 1, 3, true, {1, 2, 3, 4}));
  const std::string message = runtime_error_message([] { nam::Linear(1, 1, 3, true, {1, 2, 3}); });
  EXPECT_TRUE(
      contains(message, "Params vector does not match expected size based on architecture parameters"));
  EXPECT_THROW(nam::Linear(1, 1, -1, false, {}), std::runtime_error);
  const nam::Linear direct(1, 2, 5, false, {1, 2, 3, 4, 5}, 44100.0);
  EXPECT_EQ(direct.GetReceptiveField(), 5);
  EXPECT_EQ(direct.GetExpectedSampleRate(), 44100.0);
  EXPECT_EQ(direct.NumOutputChannels(), 2);
  EXPECT_EQ(direct.GetRequestedImplementation(), nam::LinearImplementation::Auto);
}

TEST(Linear, HasNoPrewarm) {
  auto dsp = nam::get_dsp(linear_model({1.0f, 2.0f}));
  EXPECT_EQ(dsp->GetPrewarmSamples(), 0);
}

TEST(Linear, ImplementationNamesRoundTrip) {
  using nam::LinearImplementation;
  for (const auto implementation :
       {LinearImplementation::Auto, LinearImplementation::Direct, LinearImplementation::FFT})
    EXPECT_EQ(nam::linear::parse_implementation(nam::linear::implementation_to_string(implementation)),
              implementation);
  EXPECT_TRUE(contains(runtime_error_message([] { nam::linear::parse_implementation("Overlap-Save"); }),
                       "Unsupported Linear implementation: Overlap-Save"));
}

} // namespace
} // namespace nam_test
