// Real-time robustness of every architecture: zero-frame and oversized blocks, hostile sample values
// (NaN, infinities, denormals, 1e30), recovery through Reset(), and the caller's floating-point mode.
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#if defined(__SSE__) || defined(_M_X64)
#  include <xmmintrin.h>
#endif

#include "NAM/get_dsp.h"
#include "allocation_tracking.h"
#include "reference.h"

namespace {

// One model of each architecture (and container kind) the project or the shared data holds.
std::vector<std::filesystem::path> models_of_every_architecture() {
  const std::filesystem::path shared = nam_test::reference_dir();
  return {NAM_EXAMPLE_MODELS_DIR "/a1-nano.nam",
          NAM_EXAMPLE_MODELS_DIR "/wavenet-grouped.nam",
          NAM_EXAMPLE_MODELS_DIR "/lstm-2x8.nam",
          shared / "models" / "convnet-8-bn.nam",
          shared / "models" / "linear-64.nam",
          shared / ".." / "upstream" / "example_models" / "wavenet_condition_dsp.nam",
          shared / ".." / "upstream" / "example_models" / "slimmable_wavenet.nam",
          shared / ".." / "upstream" / "example_models" / "slimmable_container.nam"};
}

std::string test_name(const testing::TestParamInfo<std::filesystem::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

class Realtime : public testing::TestWithParam<std::filesystem::path> {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(GetParam()))
      GTEST_SKIP() << "missing " << GetParam();
    try {
      model = nam::get_dsp(GetParam());
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).find("No config parser registered") != std::string::npos)
        GTEST_SKIP() << e.what();
      throw;
    }
    in.assign(model->NumInputChannels(), std::vector<NAM_SAMPLE>(kFrames, 0.0));
    out.assign(model->NumOutputChannels(), std::vector<NAM_SAMPLE>(kFrames, 0.0));
    in_ptrs.resize(in.size());
    out_ptrs.resize(out.size());
  }

  // Processes frames [start, start + n) of the input buffers into the output buffers.
  void process(const int start, const int n) {
    for (size_t c = 0; c < in.size(); ++c)
      in_ptrs[c] = in[c].data() + start;
    for (size_t c = 0; c < out.size(); ++c)
      out_ptrs[c] = out[c].data() + start;
    model->process(in_ptrs.data(), out_ptrs.data(), n);
  }

  void fill_input(const std::function<NAM_SAMPLE(int)>& sample) {
    for (auto& channel : in)
      for (int t = 0; t < kFrames; ++t)
        channel[t] = sample(t);
  }

  // Reset, then the whole input in blocks of 64; returns the first output channel.
  std::vector<NAM_SAMPLE> render_after_reset() {
    model->Reset(48000, 64);
    for (int t = 0; t < kFrames; t += 64)
      process(t, 64);
    return out[0];
  }

  static constexpr int kFrames = 1024;
  std::unique_ptr<nam::DSP> model;
  std::vector<std::vector<NAM_SAMPLE>> in, out;
  std::vector<NAM_SAMPLE*> in_ptrs, out_ptrs; // sized once, so process() itself allocates nothing here
};

TEST_P(Realtime, ZeroFramesIsANoOp) {
  fill_input([](int t) { return 0.3 * std::sin(0.02 * t); });
  const std::vector<NAM_SAMPLE> expected = render_after_reset();
  model->Reset(48000, 64);
  for (int t = 0; t < kFrames; t += 64) {
    process(t, 0);
    process(t, 64);
  }
  EXPECT_EQ(out[0], expected);
}

TEST_P(Realtime, OversizedBlocksMatchPreparedBlocksWithoutAllocating) {
  fill_input([](int t) { return 0.3 * std::sin(0.02 * t); });
  const std::vector<NAM_SAMPLE> expected = render_after_reset();
  model->Reset(48000, 64);
  {
    nam_test::AllocationScope scope;
    process(0, kFrames); // 16 times the prepared size
    if (nam_test::AllocationScope::available()) {
      EXPECT_EQ(scope.allocations(), 0);
    }
  }
  EXPECT_LT(nam_test::max_abs_difference(std::vector<float>(out[0].begin(), out[0].end()),
                                         std::vector<float>(expected.begin(), expected.end())),
            1e-5);
}

TEST_P(Realtime, HostileSamplesDoNotCrashAndResetRecoversExactly) {
  fill_input([](int t) { return 0.3 * std::sin(0.02 * t); });
  const std::vector<NAM_SAMPLE> clean = render_after_reset();
  const NAM_SAMPLE hostile[] = {std::numeric_limits<NAM_SAMPLE>::quiet_NaN(),
                                std::numeric_limits<NAM_SAMPLE>::infinity(),
                                -std::numeric_limits<NAM_SAMPLE>::infinity(),
                                1e30,
                                -1e30,
                                1e-40,
                                FLT_MIN / 4};
  for (const NAM_SAMPLE value : hostile) {
    fill_input([value](int t) { return t % 3 == 0 ? value : 0.1; });
    model->Reset(48000, 64);
    for (int t = 0; t < kFrames; t += 64)
      process(t, 64); // must return; the output may be anything
    fill_input([](int t) { return 0.3 * std::sin(0.02 * t); });
    EXPECT_EQ(render_after_reset(), clean) << "after input value " << value;
  }
}

TEST_P(Realtime, DenormalInputGivesFiniteOutput) {
  fill_input([](int t) { return (t % 2 ? 1 : -1) * 1e-41; });
  render_after_reset();
  for (const auto& channel : out)
    for (const NAM_SAMPLE v : channel)
      ASSERT_TRUE(std::isfinite(v));
}

#if defined(__SSE__) || defined(_M_X64)
TEST_P(Realtime, ProcessRestoresTheCallersFloatingPointMode) {
  const unsigned before = _mm_getcsr();
  ASSERT_EQ(before & 0x8040u, 0u) << "the test expects flush-to-zero to be off";
  fill_input([](int) { return 0.1; });
  render_after_reset();
  EXPECT_EQ(_mm_getcsr(), before);
}
#endif

INSTANTIATE_TEST_SUITE_P(EveryArchitecture, Realtime, testing::ValuesIn(models_of_every_architecture()),
                         test_name);

} // namespace
