// Thread safety as plugins use the library (run under ThreadSanitizer in CI: NAM_SANITIZE=thread, target
// run_concurrency_tests): independent models on different threads, a UI thread resizing a slimmable model
// while the audio thread processes it without allocating, and models loaded on one thread and processed on
// another.
#include <atomic>
#include <cmath>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/get_dsp.h"
#include "NAM/slimmable.h"
#include "allocation_tracking.h"
#include "reference.h"

namespace {

std::unique_ptr<nam::DSP> load_or_null(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    return nullptr;
  try {
    return nam::get_dsp(path);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("No config parser registered") != std::string::npos)
      return nullptr;
    throw;
  }
}

#define LOAD_OR_SKIP(var, path)                                                                              \
  std::unique_ptr<nam::DSP> var = load_or_null(path);                                                        \
  if (!var)                                                                                                  \
  GTEST_SKIP() << "cannot load " << (path)

std::filesystem::path upstream(const char* name) {
  return nam_test::reference_dir() / ".." / "upstream" / "example_models" / name;
}

// Processes `blocks` blocks of 64 frames of a sine; returns the sum of |output| (to compare runs). Counts
// the heap allocations process() makes into *allocations when given one.
double run_blocks(nam::DSP& model, const int blocks, long* allocations = nullptr) {
  std::vector<NAM_SAMPLE> in(64), out(64);
  NAM_SAMPLE* in_ptr = in.data();
  NAM_SAMPLE* out_ptr = out.data();
  double sum = 0.0;
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < 64; ++t)
      in[t] = 0.4 * std::sin(0.03 * (b * 64 + t));
    {
      nam_test::AllocationScope scope;
      model.process(&in_ptr, &out_ptr, 64);
      if (allocations)
        *allocations += scope.allocations() + scope.deallocations();
    }
    for (const NAM_SAMPLE v : out)
      sum += std::abs(v);
  }
  return sum;
}

TEST(Concurrency, IndependentModelsOnTwoThreadsGiveTheSameResultsAsAlone) {
  const std::filesystem::path file = NAM_EXAMPLE_MODELS_DIR "/a1-nano.nam";
  LOAD_OR_SKIP(alone, file);
  alone->Reset(48000, 64);
  const double expected = run_blocks(*alone, 200);
  LOAD_OR_SKIP(first, file);
  LOAD_OR_SKIP(second, file);
  first->Reset(48000, 64);
  second->Reset(48000, 64);
  auto a = std::async(std::launch::async, [&] { return run_blocks(*first, 200); });
  auto b = std::async(std::launch::async, [&] { return run_blocks(*second, 200); });
  EXPECT_DOUBLE_EQ(a.get(), expected);
  EXPECT_DOUBLE_EQ(b.get(), expected);
}

TEST(Concurrency, DifferentArchitecturesOnTwoThreads) {
  LOAD_OR_SKIP(wavenet, NAM_EXAMPLE_MODELS_DIR "/wavenet-grouped.nam");
  LOAD_OR_SKIP(lstm, NAM_EXAMPLE_MODELS_DIR "/lstm-1x12.nam");
  wavenet->Reset(48000, 64);
  lstm->Reset(48000, 64);
  auto a = std::async(std::launch::async, [&] { return run_blocks(*wavenet, 100); });
  auto b = std::async(std::launch::async, [&] { return run_blocks(*lstm, 100); });
  EXPECT_TRUE(std::isfinite(a.get()));
  EXPECT_TRUE(std::isfinite(b.get()));
}

class SlimmableWhileProcessing : public testing::TestWithParam<const char*> {};

TEST_P(SlimmableWhileProcessing, UiThreadResizesWhileAudioThreadProcesses) {
  LOAD_OR_SKIP(model, upstream(GetParam()));
  auto* slimmable = dynamic_cast<nam::SlimmableModel*>(model.get());
  ASSERT_NE(slimmable, nullptr);
  model->Reset(48000, 64);
  std::atomic<bool> stop{false};
  std::thread ui([&] {
    for (int i = 0; !stop; ++i)
      slimmable->SetSlimmableSize((i % 11) / 10.0);
  });
  long allocations = 0;
  const double sum = run_blocks(*model, 300, &allocations);
  stop = true;
  ui.join();
  EXPECT_TRUE(std::isfinite(sum));
  if (nam_test::AllocationScope::available()) {
    EXPECT_EQ(allocations, 0) << "the audio thread allocated while the UI thread resized the model";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SlimmableWhileProcessing,
                         testing::Values("slimmable_wavenet.nam", "slimmable_container.nam", "A2.nam"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

TEST(Concurrency, LoadedOnOneThreadProcessedOnAnother) {
  const std::filesystem::path file = NAM_EXAMPLE_MODELS_DIR "/a1-nano.nam";
  LOAD_OR_SKIP(alone, file);
  alone->Reset(48000, 64);
  const double expected = run_blocks(*alone, 50);
  // The loader thread loads and prepares; the audio thread only processes (as a plugin does).
  std::promise<std::unique_ptr<nam::DSP>> handover;
  std::thread loader([&] {
    auto model = nam::get_dsp(file);
    model->Reset(48000, 64);
    handover.set_value(std::move(model));
  });
  auto audio = std::async(std::launch::async, [&] {
    std::unique_ptr<nam::DSP> model = handover.get_future().get();
    return run_blocks(*model, 50);
  });
  loader.join();
  EXPECT_DOUBLE_EQ(audio.get(), expected);
}

TEST(Concurrency, ModelsLoadOnSeveralThreadsAtOnce) {
  const std::filesystem::path file = NAM_EXAMPLE_MODELS_DIR "/wavenet-grouped.nam";
  std::vector<std::future<int>> loads;
  for (int i = 0; i < 4; ++i)
    loads.push_back(std::async(std::launch::async, [&] { return nam::get_dsp(file)->NumOutputChannels(); }));
  for (auto& load : loads)
    EXPECT_EQ(load.get(), 1);
}

} // namespace
