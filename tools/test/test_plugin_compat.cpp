// Source compatibility with how the NeuralAmpModeler plugin uses the library: it wraps a loaded model in
// its own nam::DSP subclass (for resampling) that calls the base constructor with the wrapped model's
// channels, overrides process/prewarm/Reset/GetPrewarmSamples, writes the protected expected sample rate,
// copies loudness and levels, and resets the wrapped model with the deprecated ResetAndPrewarm. This file
// exercises that same surface with a wrapper written here (no resampling), so an API change that would
// break the plugin breaks this build first.

#include <functional>

#include <gtest/gtest.h>

#include "NAM/activations.h"
#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/slimmable.h"
#include "model_builders.h"

namespace nam_test {
namespace {

class HostWrapper : public nam::DSP {
public:
  HostWrapper(std::unique_ptr<nam::DSP> inner, const double host_rate) :
      nam::DSP(inner->NumInputChannels(), inner->NumOutputChannels(), host_rate),
      _inner(std::move(inner)) {
    _forward = [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { _inner->process(in, out, n); };
    if (_inner->HasLoudness())
      SetLoudness(_inner->GetLoudness());
    if (_inner->HasInputLevel())
      SetInputLevel(_inner->GetInputLevel());
    if (_inner->HasOutputLevel())
      SetOutputLevel(_inner->GetOutputLevel());
    Reset(host_rate, 2048);
  }

  void prewarm() override { _inner->prewarm(); }
  int GetPrewarmSamples() override { return 0; }

  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override {
    if (num_frames > _max_block)
      throw std::runtime_error("block larger than announced");
    _forward(input, output, num_frames);
  }

  void Reset(const double sampleRate, const int maxBlockSize) override {
    mExpectedSampleRate = sampleRate; // the plugin reports the host rate as its own
    _max_block = maxBlockSize;
    _inner->ResetAndPrewarm(sampleRate, maxBlockSize);
  }

  nam::SlimmableModel* slimmable() { return dynamic_cast<nam::SlimmableModel*>(_inner.get()); }
  nam::DSP& inner() { return *_inner; }

private:
  std::unique_ptr<nam::DSP> _inner;
  std::function<void(NAM_SAMPLE**, NAM_SAMPLE**, int)> _forward;
  int _max_block = 0;
};

nlohmann::json model_with_metadata() {
  nlohmann::json model = linear_model({0.5f, 0.25f}, 0.125f);
  model["metadata"] = {{"loudness", -12.5}, {"input_level_dbu", 19.0}, {"output_level_dbu", 7.5}};
  return model;
}

TEST(PluginCompat, WrapperSeesTheModelsMetadataAndRate) {
  nam::activations::Activation::enable_fast_tanh(); // the plugin switches it on at start-up
  std::unique_ptr<nam::DSP> model = nam::get_dsp(model_with_metadata());
  nam::activations::Activation::disable_fast_tanh();
  EXPECT_EQ(model->GetExpectedSampleRate(), 48000.0);
  HostWrapper wrapper(std::move(model), 44100.0);
  EXPECT_EQ(wrapper.GetExpectedSampleRate(), 44100.0);
  EXPECT_EQ(wrapper.GetLoudness(), -12.5);
  EXPECT_EQ(wrapper.GetInputLevel(), 19.0);
  EXPECT_EQ(wrapper.GetOutputLevel(), 7.5);
  EXPECT_EQ(wrapper.NumInputChannels(), 1);
  EXPECT_EQ(wrapper.NumOutputChannels(), 1);
  EXPECT_EQ(wrapper.slimmable(), nullptr);
  // The wrapped model was reset (and prewarmed) for the announced block size.
  EXPECT_EQ(wrapper.inner().GetMaxBufferSize(), 2048);
  EXPECT_TRUE(wrapper.inner().GetPrewarmOnReset());
}

TEST(PluginCompat, WrapperProcessesThroughTheModel) {
  HostWrapper wrapper(nam::get_dsp(model_with_metadata()), 48000.0);
  wrapper.Reset(48000.0, 64);
  ChannelBuffers in(1, 64), out(1, 64);
  in[0][0] = 1.0;
  wrapper.process(in.pointers(), out.pointers(), 64);
  EXPECT_EQ(out[0][0], 0.625);
  EXPECT_EQ(out[0][1], 0.375);
  EXPECT_EQ(out[0][2], 0.125);
  ChannelBuffers big(1, 65);
  EXPECT_THROW(wrapper.process(big.pointers(), big.pointers(), 65), std::runtime_error);
}

TEST(PluginCompat, SlimmableInterfaceIsPolymorphic) {
  // Hosts discover slimmable models with dynamic_cast; the interface has a virtual destructor and default
  // (empty) breakpoints.
  struct Slim : nam::SlimmableModel {
    double size = 1.0;
    void SetSlimmableSize(const double value) override { size = value; }
  } slim;
  nam::SlimmableModel& as_interface = slim;
  as_interface.SetSlimmableSize(0.25);
  EXPECT_EQ(slim.size, 0.25);
  EXPECT_TRUE(as_interface.GetSlimmableSizeBreakpoints().empty());
}

} // namespace
} // namespace nam_test
