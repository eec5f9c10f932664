// The DSP base class: identity processing, Reset and prewarm, the prewarm-on-reset default and its scopes,
// levels and loudness, and blocks larger than the prepared size.

#include <thread>

#include <gtest/gtest.h>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "allocation_tracking.h"
#include "model_builders.h"

namespace nam_test {
namespace {

// A model that records what the base class asks of it.
class ProbeModel : public nam::DSP {
public:
  ProbeModel(const int prewarm_samples = 0, const int in = 1, const int out = 1) :
      DSP(in, out, 48000.0),
      _prewarm_samples(prewarm_samples) {}

  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override {
    ++calls;
    frames += num_frames;
    for (int c = 0; c < NumInputChannels(); ++c)
      for (int i = 0; i < num_frames; ++i)
        if (input[c][i] != 0)
          saw_nonzero_input = true;
    DSP::process(input, output, num_frames);
  }
  int GetPrewarmSamples() override { return _prewarm_samples; }

  std::vector<int> sizes_set;
  bool throw_on_resize = false;
  int calls = 0;
  long frames = 0;
  bool saw_nonzero_input = false;

protected:
  void SetMaxBufferSize(const int maxBufferSize) override {
    if (throw_on_resize)
      throw std::runtime_error("cannot allocate");
    DSP::SetMaxBufferSize(maxBufferSize);
    sizes_set.push_back(maxBufferSize);
  }

private:
  int _prewarm_samples;
};

// Identity processing ====================================================================================

TEST(DspBase, CopiesSharedChannelsAndSilencesTheRest) {
  nam::DSP dsp(2, 3, 44100.0);
  EXPECT_EQ(dsp.NumInputChannels(), 2);
  EXPECT_EQ(dsp.NumOutputChannels(), 3);
  EXPECT_EQ(dsp.GetExpectedSampleRate(), 44100.0);
  ChannelBuffers in(2, 5), out(3, 5);
  for (int i = 0; i < 5; ++i) {
    in[0][i] = i + 1;
    in[1][i] = -(i + 1);
    out[2][i] = 99; // must be overwritten
  }
  dsp.process(in.pointers(), out.pointers(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out[0][i], i + 1);
    EXPECT_EQ(out[1][i], -(i + 1));
    EXPECT_EQ(out[2][i], 0);
  }
}

TEST(DspBase, MoreInputsThanOutputsDropsTheExtraInputs) {
  nam::DSP dsp(3, 1, -1.0);
  ChannelBuffers in(3, 2), out(1, 2);
  in[0][0] = 0.5;
  in[2][0] = 7;
  dsp.process(in.pointers(), out.pointers(), 2);
  EXPECT_EQ(out[0][0], 0.5);
  EXPECT_EQ(out[0][1], 0.0);
  EXPECT_EQ(dsp.GetExpectedSampleRate(), NAM_UNKNOWN_EXPECTED_SAMPLE_RATE);
}

TEST(DspBase, ZeroFramesIsHarmless) {
  nam::DSP dsp(1, 1, 48000.0);
  NAM_SAMPLE x = 3, y = 4;
  NAM_SAMPLE *in = &x, *out = &y;
  dsp.process(&in, &out, 0);
  EXPECT_EQ(y, 4);
}

TEST(DspBase, ChannelCountsMustBePositive) {
  for (const auto& [in, out] : {std::pair{0, 1}, {1, 0}, {-1, 1}, {1, -3}}) {
    const std::string message = runtime_error_message([&] { nam::DSP(in, out, 48000.0); });
    EXPECT_TRUE(contains(message, "Channel counts must be positive")) << in << "," << out;
  }
}

TEST(DspBase, ProcessDoesNotAllocate) {
  if (!AllocationScope::available())
    GTEST_SKIP() << "allocation tracking is not available in this build";
  nam::DSP dsp(2, 2, 48000.0);
  dsp.Reset(48000.0, 64);
  ChannelBuffers in(2, 256), out(2, 256);
  AllocationScope scope;
  dsp.process(in.pointers(), out.pointers(), 256);
  EXPECT_EQ(scope.allocations(), 0);
}

// Reset and prewarm ======================================================================================

TEST(DspReset, SetsTheMaxBufferSize) {
  ProbeModel dsp;
  EXPECT_EQ(dsp.GetMaxBufferSize(), 0);
  dsp.Reset(96000.0, 128);
  EXPECT_EQ(dsp.GetMaxBufferSize(), 128);
  dsp.Reset(44100.0, 32);
  EXPECT_EQ(dsp.GetMaxBufferSize(), 32);
  EXPECT_EQ(dsp.sizes_set, (std::vector<int>{128, 32}));
  // The expected rate is the file's, not the host's.
  EXPECT_EQ(dsp.GetExpectedSampleRate(), 48000.0);
}

TEST(DspReset, PrewarmRunsWholeBlocksOfSilence) {
  ProbeModel dsp(100);
  EXPECT_EQ(dsp.GetPrewarmSamples(), 100);
  ASSERT_TRUE(dsp.GetPrewarmOnReset());
  dsp.Reset(48000.0, 64);
  // ceil(100 / 64) blocks of the prepared size, as in the original.
  EXPECT_EQ(dsp.calls, 2);
  EXPECT_EQ(dsp.frames, 128);
  EXPECT_FALSE(dsp.saw_nonzero_input);
}

TEST(DspReset, NoPrewarmSamplesMeansNoProcessing) {
  ProbeModel dsp(0);
  dsp.Reset(48000.0, 64);
  EXPECT_EQ(dsp.calls, 0);
  nam::DSP base(1, 1, 48000.0);
  EXPECT_EQ(base.GetPrewarmSamples(), 0);
}

TEST(DspReset, PrewarmBeforeResetAdoptsTheDefaultBufferSize) {
  ProbeModel dsp(5000);
  dsp.prewarm();
  EXPECT_EQ(dsp.GetMaxBufferSize(), NAM_DEFAULT_MAX_BUFFER_SIZE);
  EXPECT_EQ(dsp.sizes_set, (std::vector<int>{NAM_DEFAULT_MAX_BUFFER_SIZE}));
  EXPECT_EQ(dsp.frames, 2L * NAM_DEFAULT_MAX_BUFFER_SIZE);
  // Once a size is set, prewarm keeps it.
  dsp.Reset(48000.0, 1000);
  dsp.frames = 0;
  dsp.prewarm();
  EXPECT_EQ(dsp.GetMaxBufferSize(), 1000);
  EXPECT_EQ(dsp.frames, 5000);
}

TEST(DspReset, PrewarmOnResetCanBeSwitchedOff) {
  ProbeModel dsp(10);
  dsp.SetPrewarmOnReset(false);
  EXPECT_FALSE(dsp.GetPrewarmOnReset());
  dsp.Reset(48000.0, 16);
  EXPECT_EQ(dsp.calls, 0);
  EXPECT_EQ(dsp.GetMaxBufferSize(), 16);
  dsp.SetPrewarmOnReset(true);
  dsp.Reset(48000.0, 16);
  EXPECT_EQ(dsp.calls, 1);
}

TEST(DspReset, ResetAndPrewarmForcesPrewarmOnceAndRestoresTheFlag) {
  ProbeModel dsp(10);
  dsp.SetPrewarmOnReset(false);
  dsp.ResetAndPrewarm(48000.0, 16);
  EXPECT_EQ(dsp.calls, 1);
  EXPECT_FALSE(dsp.GetPrewarmOnReset());
  dsp.throw_on_resize = true;
  EXPECT_THROW(dsp.ResetAndPrewarm(48000.0, 16), std::runtime_error);
  EXPECT_FALSE(dsp.GetPrewarmOnReset());
}

// The prewarm-on-reset default ============================================================================

TEST(PrewarmDefault, IsOnAndScopesNestAndRestore) {
  EXPECT_TRUE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
  nam::DSP before(1, 1, -1);
  {
    nam::ScopedPrewarmOnResetDefault outer(false);
    EXPECT_TRUE(outer.PreviousPrewarmOnReset());
    EXPECT_FALSE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
    {
      nam::ScopedPrewarmOnResetDefault inner(true);
      EXPECT_FALSE(inner.PreviousPrewarmOnReset());
      EXPECT_TRUE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
    }
    EXPECT_FALSE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
    // Existing models keep their own setting.
    EXPECT_TRUE(before.GetPrewarmOnReset());
  }
  EXPECT_TRUE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
}

TEST(PrewarmDefault, IsPerThread) {
  nam::ScopedPrewarmOnResetDefault off(false);
  bool other_thread_default = false;
  bool other_thread_scoped = true;
  std::thread worker([&] {
    other_thread_default = nam::DSP(1, 1, -1).GetPrewarmOnReset();
    nam::ScopedPrewarmOnResetDefault on_worker(false);
    other_thread_scoped = nam::DSP(1, 1, -1).GetPrewarmOnReset();
  });
  worker.join();
  EXPECT_TRUE(other_thread_default);
  EXPECT_FALSE(other_thread_scoped);
  EXPECT_FALSE(nam::DSP(1, 1, -1).GetPrewarmOnReset());
  {
    nam::ScopedPrewarmOnResetDefault on(true);
    std::thread second([&] {
      nam::ScopedPrewarmOnResetDefault worker_scope(false);
      other_thread_scoped = nam::DSP(1, 1, -1).GetPrewarmOnReset();
    });
    second.join();
    EXPECT_FALSE(other_thread_scoped);
    EXPECT_TRUE(nam::DSP(1, 1, -1).GetPrewarmOnReset()); // the worker's scope did not leak here
  }
}

TEST(PrewarmDefault, AppliesToLoadedModels) {
  nam::ScopedPrewarmOnResetDefault off(false);
  EXPECT_FALSE(nam::get_dsp(linear_model({1.0f}))->GetPrewarmOnReset());
}

// Levels and loudness ====================================================================================

TEST(DspLevels, StartUnknown) {
  nam::DSP dsp(1, 1, 48000.0);
  EXPECT_FALSE(dsp.HasLoudness());
  EXPECT_FALSE(dsp.HasInputLevel());
  EXPECT_FALSE(dsp.HasOutputLevel());
  EXPECT_EQ(dsp.GetInputLevel(), 0.0);
  EXPECT_EQ(dsp.GetOutputLevel(), 0.0);
  EXPECT_EQ(runtime_error_message([&] { dsp.GetLoudness(); }),
            "Asked for loudness of a model that doesn't know how loud it is!");
}

TEST(DspLevels, SettersMakeThemKnown) {
  nam::DSP dsp(1, 1, 48000.0);
  dsp.SetLoudness(-18.123456789);
  dsp.SetInputLevel(18.3);
  dsp.SetOutputLevel(-4.1);
  EXPECT_TRUE(dsp.HasLoudness());
  EXPECT_EQ(dsp.GetLoudness(), -18.123456789); // double
  EXPECT_TRUE(dsp.HasInputLevel());
  EXPECT_EQ(dsp.GetInputLevel(), static_cast<double>(18.3f)); // single precision, as in the original
  EXPECT_TRUE(dsp.HasOutputLevel());
  EXPECT_EQ(dsp.GetOutputLevel(), static_cast<double>(-4.1f));
  dsp.SetInputLevel(0.0);
  EXPECT_TRUE(dsp.HasInputLevel()); // 0 dBu is a level, not "unknown"
}

// Blocks larger than the prepared size ====================================================================

std::vector<double> ramp_signal(const int n) {
  std::vector<double> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    x[i] = std::sin(0.05 * i) + 0.001 * (i % 7);
  return x;
}

TEST(DspLargeBlocks, LinearHandlesBlocksLargerThanItsMaximumWithoutAllocating) {
  const std::vector<float> taps = {0.3f, -0.2f, 0.1f, 0.05f, -0.025f};
  auto dsp = nam::get_dsp(linear_model(taps, 0.01f));
  dsp->Reset(48000.0, 16);
  const int n = 1000;
  const std::vector<double> x = ramp_signal(n);
  ChannelBuffers in(1, n), out(1, n);
  std::copy(x.begin(), x.end(), in[0].begin());
  {
    AllocationScope scope;
    dsp->process(in.pointers(), out.pointers(), n);
    if (AllocationScope::available()) {
      EXPECT_EQ(scope.allocations(), 0);
    }
  }
  EXPECT_EQ(dsp->GetMaxBufferSize(), 16);
  const std::vector<double> expected = naive_fir(x, taps, 0.01);
  for (int i = 0; i < n; ++i)
    ASSERT_NEAR(out[0][i], expected[i], 1e-6) << i;
}

TEST(DspLargeBlocks, LinearWorksBeforeAnyReset) {
  // Models allocate a default capacity at construction, so a host that forgets Reset still gets output.
  const std::vector<float> taps = {0.5f, 0.25f};
  auto dsp = nam::get_dsp(linear_model(taps));
  const int n = 300;
  const std::vector<double> x = ramp_signal(n);
  ChannelBuffers in(1, n), out(1, n);
  std::copy(x.begin(), x.end(), in[0].begin());
  dsp->process(in.pointers(), out.pointers(), n);
  const std::vector<double> expected = naive_fir(x, taps);
  for (int i = 0; i < n; ++i)
    ASSERT_NEAR(out[0][i], expected[i], 1e-6) << i;
}

// The deprecated Buffer base still works for architectures written against the original.
class OneSampleDelay : public nam::Buffer {
public:
  OneSampleDelay() : Buffer(1, 1, 1, 48000.0) {}
  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override {
    _update_buffers_(input, num_frames);
    for (int i = 0; i < num_frames; ++i)
      output[0][i] = _input_buffers[0][_input_buffer_offset + i - 1];
    _advance_input_buffer_(num_frames);
  }
};

TEST(DspBuffer, KeepsHistoryAcrossBlocksAndRewinds) {
  OneSampleDelay dsp;
  std::vector<double> produced;
  int next = 1;
  for (const int block : {1, 3, 7, 2, 40, 5, 64, 9, 100, 1}) {
    ChannelBuffers in(1, block), out(1, block);
    for (int i = 0; i < block; ++i)
      in[0][i] = next++;
    dsp.process(in.pointers(), out.pointers(), block);
    produced.insert(produced.end(), out[0].begin(), out[0].end());
  }
  // Growing the buffer discards history (as in the original), so only check that every output is either
  // the previous input or the silence of a fresh buffer, and that most of them are the previous input.
  int delayed = 0;
  for (size_t i = 1; i < produced.size(); ++i) {
    EXPECT_TRUE(produced[i] == static_cast<double>(i) || produced[i] == 0.0) << i;
    delayed += produced[i] == static_cast<double>(i);
  }
  EXPECT_EQ(produced[0], 0.0);
  EXPECT_GT(delayed, static_cast<int>(produced.size()) * 9 / 10);
}

} // namespace
} // namespace nam_test
