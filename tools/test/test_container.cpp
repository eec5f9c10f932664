// SlimmableContainer: submodel selection and breakpoints, forwarding of Reset and prewarm settings, switching
// sizes while audio runs (also from a second thread) without allocating on the audio thread, config errors.

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/container.h"
#include "NAM/get_dsp.h"
#include "NAM/lstm.h"
#include "NAM/model_config.h"
#include "NAM/slimmable.h"
#include "allocation_tracking.h"
#include "architecture_models.h"
#include "model_builders.h"
#include "reference.h"

namespace nam_test {
namespace {

using nam::container::ContainerModel;

nlohmann::json small_lstm(const int hidden_size, const unsigned seed, const double sample_rate = 48000.0) {
  const LstmShape shape{1, 1, hidden_size, 1};
  return lstm_model(shape, random_weights(shape.weight_count(), seed), sample_rate);
}

/// Three LSTMs of growing size, selected below 0.33, below 0.66, and from 0.66 on.
nlohmann::json three_lstms() {
  return container_model(
      {submodel(0.33, small_lstm(3, 1)), submodel(0.66, small_lstm(5, 2)), submodel(1.0, small_lstm(8, 3))});
}

std::unique_ptr<ContainerModel> load_container(const nlohmann::json& file) {
  std::unique_ptr<nam::DSP> dsp = nam::get_dsp(file);
  auto* container = dynamic_cast<ContainerModel*>(dsp.get());
  if (container == nullptr)
    return nullptr;
  dsp.release();
  return std::unique_ptr<ContainerModel>(container);
}

bool all_finite(const std::vector<NAM_SAMPLE>& values) {
  for (const NAM_SAMPLE v : values)
    if (!std::isfinite(v))
      return false;
  return true;
}

TEST(Container, SelectsTheFirstSubmodelWhoseMaxValueExceedsTheSize) {
  auto container = load_container(three_lstms());
  ASSERT_NE(container, nullptr);
  nam::SlimmableModel* slimmable = container.get();
  EXPECT_EQ(slimmable->GetSlimmableSizeBreakpoints(), (std::vector<double>{0.33, 0.66}));
  EXPECT_EQ(container->GetActiveIndex(), 2u); // full size after loading

  const std::vector<std::pair<double, size_t>> cases = {{0.0, 0},
                                                        {0.2, 0},
                                                        {0.3299, 0},
                                                        {0.33, 1},
                                                        {0.5, 1},
                                                        {0.66, 2},
                                                        {1.0, 2},
                                                        {7.0, 2},
                                                        {-1.0, 0},
                                                        {0.65, 1},
                                                        {std::numeric_limits<double>::quiet_NaN(), 2}};
  for (const auto& [size, index] : cases) {
    slimmable->SetSlimmableSize(size);
    EXPECT_EQ(container->GetActiveIndex(), index) << "size " << size;
  }
}

TEST(Container, BreakpointsAreEveryMaxValueButTheLast) {
  auto container =
      load_container(container_model({submodel(0.5, small_lstm(3, 4)), submodel(3.0, small_lstm(4, 5))}));
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(container->GetSlimmableSizeBreakpoints(), std::vector<double>{0.5});
  container->SetSlimmableSize(1.5);
  EXPECT_EQ(container->GetActiveIndex(), 1u);
  auto single = load_container(container_model({submodel(1.0, small_lstm(3, 6))}));
  ASSERT_NE(single, nullptr);
  EXPECT_TRUE(single->GetSlimmableSizeBreakpoints().empty());
}

TEST(Container, SoundsLikeTheSelectedSubmodel) {
  const nlohmann::json file = three_lstms();
  auto container = load_container(file);
  ASSERT_NE(container, nullptr);
  container->Reset(48000.0, 64);
  const std::vector<double> input = test_signal(800);
  for (const auto& [size, index] : std::vector<std::pair<double, size_t>>{{1.0, 2}, {0.1, 0}, {0.5, 1}}) {
    container->SetSlimmableSize(size); // the newly selected submodel is reset (and prewarmed) here
    auto alone = nam::get_dsp(file["config"]["submodels"][index]["model"]);
    alone->Reset(48000.0, 64);
    EXPECT_EQ(max_difference(run_blocks(*container, input, 64), run_blocks(*alone, input, 64)), 0.0)
        << "submodel " << index;
  }
}

TEST(Container, ForwardsResetAndPrewarmSettings) {
  // A Linear submodel (no prewarm) below 0.5, an LSTM (half a second of prewarm) above.
  auto container = load_container(
      container_model({submodel(0.5, linear_model({0.5f, 0.25f})), submodel(1.0, small_lstm(4, 7))}));
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(container->NumInputChannels(), 1);
  EXPECT_EQ(container->NumOutputChannels(), 1);
  EXPECT_EQ(container->GetPrewarmSamples(), 24000);

  container->SetPrewarmOnReset(false);
  EXPECT_FALSE(container->GetPrewarmOnReset());
  for (size_t i = 0; i < container->GetNumSubmodels(); ++i)
    EXPECT_FALSE(container->GetSubmodel(i).GetPrewarmOnReset()) << "submodel " << i;

  container->Reset(44100.0, 128);
  EXPECT_EQ(container->GetMaxBufferSize(), 128);
  EXPECT_EQ(container->GetSubmodel(1).GetMaxBufferSize(), 128);
  EXPECT_EQ(container->GetSubmodel(0).GetMaxBufferSize(), 0); // reset when it is selected

  container->SetSlimmableSize(0.0);
  EXPECT_EQ(container->GetPrewarmSamples(), 0);
  EXPECT_EQ(container->GetSubmodel(0).GetMaxBufferSize(), 128);

  // Before any Reset, a newly selected submodel is prepared for the default buffer size.
  auto fresh = load_container(
      container_model({submodel(0.5, linear_model({0.5f, 0.25f})), submodel(1.0, small_lstm(4, 7))}));
  fresh->SetSlimmableSize(0.0);
  EXPECT_EQ(fresh->GetSubmodel(0).GetMaxBufferSize(), NAM_DEFAULT_MAX_BUFFER_SIZE);
}

TEST(Container, SwitchingBetweenBlocksKeepsProcessAllocationFree) {
  auto container = load_container(three_lstms());
  ASSERT_NE(container, nullptr);
  container->Reset(48000.0, 64);
  ChannelBuffers in(1, 64), out(1, 64);
  for (int t = 0; t < 64; ++t)
    in[0][t] = 0.3 * std::sin(0.05 * t);
  const double sizes[] = {0.9, 0.1, 0.5, 0.0, 1.0, 0.4, 0.2, 0.8};
  long allocations = 0;
  for (int block = 0; block < 64; ++block) {
    container->SetSlimmableSize(sizes[block % 8]);
    const AllocationScope scope;
    container->process(in.pointers(), out.pointers(), 64);
    allocations += scope.allocations() + scope.deallocations();
    ASSERT_TRUE(all_finite(out[0]));
  }
  if (AllocationScope::available()) {
    EXPECT_EQ(allocations, 0);
  }
}

TEST(Container, SizeChangesFromAnotherThreadWhileAudioRuns) {
  auto container = load_container(three_lstms());
  ASSERT_NE(container, nullptr);
  container->Reset(48000.0, 64);

  // The audio thread runs blocks until the UI thread has made all its changes.
  std::atomic<bool> changes_done{false};
  std::atomic<long> audio_blocks{0};
  std::atomic<long> audio_allocations{0};
  std::atomic<bool> audio_finite{true};
  std::thread audio([&] {
    ChannelBuffers in(1, 64), out(1, 64);
    for (int t = 0; t < 64; ++t)
      in[0][t] = 0.3 * std::sin(0.05 * t);
    const AllocationScope scope; // counts this thread only
    while (!changes_done || audio_blocks < 100) {
      container->process(in.pointers(), out.pointers(), 64);
      if (!all_finite(out[0]))
        audio_finite = false;
      ++audio_blocks;
    }
    audio_allocations = scope.allocations() + scope.deallocations();
  });

  const double sizes[] = {0.1, 0.5, 0.9, 0.2, 0.7, 0.0, 1.0, 0.4};
  for (int change = 0; change < 40; ++change)
    container->SetSlimmableSize(sizes[change % 8]);
  changes_done = true;
  audio.join();
  EXPECT_TRUE(audio_finite);
  EXPECT_GE(audio_blocks, 100);
  EXPECT_EQ(container->GetActiveIndex(), 1u); // the last size, 0.4
  if (AllocationScope::available()) {
    EXPECT_EQ(audio_allocations, 0);
  }
}

TEST(ContainerConfig, ErrorsNameTheKey) {
  const auto error_for = [](const nlohmann::json& config, const double rate = 48000.0) {
    return runtime_error_message([&] { nam::get_dsp(nam_object("SlimmableContainer", config, {}, rate)); });
  };
  const std::string not_array = "config.submodels: SlimmableContainer: 'submodels' must be a non-empty array";
  EXPECT_TRUE(contains(error_for(nlohmann::json::object()), not_array));
  EXPECT_TRUE(contains(error_for({{"submodels", nlohmann::json::array()}}), not_array));
  EXPECT_TRUE(contains(error_for({{"submodels", 3}}), not_array));
  const auto list = [](const std::vector<nlohmann::json>& entries) {
    return nlohmann::json{{"submodels", nlohmann::json(entries)}};
  };
  EXPECT_TRUE(contains(error_for(list({{{"model", small_lstm(3, 1)}}})),
                       "config.submodels[0].max_value: required key is missing"));
  EXPECT_TRUE(contains(error_for(list({submodel(0.5, small_lstm(3, 1)), {{"max_value", 1.0}}})),
                       "config.submodels[1].model: required key is missing"));
  EXPECT_TRUE(contains(error_for(list({submodel(0.7, small_lstm(3, 1)), submodel(0.7, small_lstm(3, 2)),
                                       submodel(1.0, small_lstm(3, 3))})),
                       "config.submodels: ContainerModel: submodels must be sorted by ascending max_value"));
  EXPECT_TRUE(contains(error_for(list({submodel(0.5, small_lstm(3, 1)), submodel(0.9, small_lstm(3, 2))})),
                       "ContainerModel: last submodel max_value must be >= 1.0"));
  EXPECT_TRUE(contains(error_for(list({submodel(1.0, small_lstm(3, 1, 44100.0))})),
                       "ContainerModel: submodel sample rate mismatch (expected 48000, got 44100)"));
  const LstmShape stereo{1, 2, 3, 1};
  EXPECT_TRUE(contains(error_for(list({submodel(1.0, lstm_model(stereo, 1))})),
                       "must have 1 input and 1 output channel"));
  nlohmann::json broken = small_lstm(3, 1);
  broken["config"].erase("hidden_size");
  const std::string nested = error_for(list({submodel(0.5, small_lstm(3, 1)), submodel(1.0, broken)}));
  EXPECT_TRUE(contains(nested, "config.submodels[1].model"));
  EXPECT_TRUE(contains(nested, "config.hidden_size"));
}

TEST(ContainerConfig, UnknownSampleRatesAreAccepted) {
  EXPECT_NO_THROW(nam::get_dsp(container_model({submodel(1.0, small_lstm(3, 1, -1.0))})));
  EXPECT_NO_THROW(nam::get_dsp(container_model({submodel(1.0, small_lstm(3, 1, 44100.0))}, -1.0)));
}

TEST(ContainerConfig, ContainersNest) {
  const nlohmann::json inner =
      container_model({submodel(0.5, small_lstm(3, 1)), submodel(1.0, small_lstm(4, 2))});
  auto outer = load_container(container_model({submodel(0.25, inner), submodel(1.0, small_lstm(5, 3))}));
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->GetSlimmableSizeBreakpoints(), std::vector<double>{0.25});
  outer->Reset(48000.0, 32);
  outer->SetSlimmableSize(0.0);
  EXPECT_NE(dynamic_cast<const ContainerModel*>(&outer->GetSubmodel(outer->GetActiveIndex())), nullptr);
  const std::vector<double> output = run_blocks(*outer, test_signal(200), 32);
  for (const double v : output)
    ASSERT_TRUE(std::isfinite(v));
}

TEST(Container, UpstreamExampleSwitchesBetweenItsSubmodels) {
  const std::filesystem::path file =
      reference_dir() / ".." / "upstream" / "example_models" / "slimmable_container.nam";
  if (!std::filesystem::exists(file))
    GTEST_SKIP() << "no upstream example at " << file;
  if (!nam::ConfigParserRegistry::instance().has("WaveNet"))
    GTEST_SKIP() << "its larger submodels are WaveNets";
  auto dsp = nam::get_dsp(file);
  auto* container = dynamic_cast<ContainerModel*>(dsp.get());
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(container->GetSlimmableSizeBreakpoints(), (std::vector<double>{0.33, 0.66}));
  container->Reset(48000.0, 64);
  ChannelBuffers in(1, 64), out(1, 64);
  for (const double size : {0.0, 0.5, 1.0, 0.2}) {
    container->SetSlimmableSize(size);
    const AllocationScope scope;
    container->process(in.pointers(), out.pointers(), 64);
    if (AllocationScope::available()) {
      EXPECT_EQ(scope.allocations(), 0) << "size " << size;
    }
    EXPECT_TRUE(all_finite(out[0]));
  }
  container->SetSlimmableSize(0.0);
  EXPECT_NE(dynamic_cast<const nam::lstm::LSTM*>(&container->GetSubmodel(0)), nullptr);
}

} // namespace
} // namespace nam_test
