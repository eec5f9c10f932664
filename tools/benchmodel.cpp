// benchmodel: measures how fast a model runs. Times process() on two seconds of 48 kHz audio, several
// times, and prints the median, minimum and maximum with the real-time factor and how the tool was built.

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "cli.h"
#include "timing.h"

namespace {

using nam_tools::kAudioFrames;
using nam_tools::kAudioMilliseconds;

constexpr const char* kTool = "benchmodel";

const std::string kUsage =
    std::string(
        "usage: benchmodel [options] <model.nam>\n"
        "\n"
        "Loads the model, calls Reset(expected sample rate, or 48000 Hz if the file does not say, N)\n"
        "and times process() on 2 s of 48 kHz audio (96000 frames, a sine plus seeded noise, in\n"
        "blocks of N frames), R times in a row. Prints the median, minimum and maximum time in\n"
        "milliseconds and the real-time factor (audio duration / median processing time; above 1 is\n"
        "faster than real time).\n"
        "\n"
        "options:\n") +
    nam_tools::RunOptions(true).help() +
    "  --runs R         number of timed runs (1 to 1000, default 5)\n"
    "  --verbose        also print each run's time, the prewarm length and the weight count\n"
    "  --sweep          time every buffer size from 16 to 2048 (powers of two) instead of --buffer\n"
    "  --denormal-input scale the input to denormal floats (~1e-39), to show they cost no extra time\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if the model cannot be loaded or run, 2 for a bad command line.\n";

constexpr long kMaxRuns = 1000;
constexpr int kSweepBufferSizes[] = {16, 32, 64, 128, 256, 512, 1024, 2048};

struct BenchOptions {
  nam_tools::RunOptions run{true}; // fast tanh by default, as the original's benchmodel
  int runs = 5;
  bool verbose = false;
  bool sweep = false;
  bool denormal_input = false;
  std::string model_path;
};

BenchOptions parse_arguments(int argc, char* argv[]) {
  nam_tools::CommandLine args(kTool, kUsage.c_str(), argc, argv);
  BenchOptions options;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (options.run.take(arg, args))
      continue;

    // Options that only concern benchmarking. A switch that changes how models are built (such as the
    // kernels they pick) belongs in this block and takes effect before load_model_or_exit().
    if (arg == "--runs") {
      options.runs = static_cast<int>(args.integer_for(arg, 1, kMaxRuns));
      continue;
    }
    if (arg == "--verbose") {
      options.verbose = true;
      continue;
    }
    if (arg == "--denormal-input") {
      options.denormal_input = true;
      continue;
    }
    if (arg == "--sweep") {
      options.sweep = true;
      continue;
    }

    if (nam_tools::CommandLine::is_option(arg))
      args.usage_error("unknown option " + arg);
    if (!options.model_path.empty())
      args.usage_error("expected one model file, got more ('" + options.model_path + "', '" + arg + "')");
    options.model_path = arg;
  }
  if (options.model_path.empty())
    args.usage_error("no model file given");
  return options;
}

int run_benchmark(const BenchOptions& options) {
  nam::dspData contents;
  std::unique_ptr<nam::DSP> model =
      nam_tools::load_model_or_exit(kTool, options.model_path, options.run, contents);

  const double expected_rate = model->GetExpectedSampleRate();
  const double rate = nam_tools::benchmark_sample_rate(*model);
  model->Reset(rate, options.run.buffer_size);

  std::cout << "model:            " << options.model_path << "\n";
  std::cout << "architecture:     " << contents.architecture << " (file version " << contents.version
            << ")\n";
  std::cout << "channels in/out:  " << model->NumInputChannels() << " / " << model->NumOutputChannels()
            << "\n";
  std::cout << "sample rate:      " << rate
            << (expected_rate > 0 ? " Hz (expected by the model)\n" : " Hz (the model does not say)\n");
  std::cout << "build:            " << nam_tools::build_description() << "\n";
  std::cout << "kernels:          " << nam_tools::kernel_description() << "\n";
  std::cout << "settings:         buffer " << options.run.buffer_size << " frames, fast tanh "
            << (options.run.fast_tanh ? "on" : "off") << (options.denormal_input ? ", denormal input" : "");
  if (options.run.slim)
    std::cout << ", slim " << *options.run.slim;
  std::cout << "\n";
  if (options.verbose) {
    std::cout << "prewarm samples:  " << model->GetPrewarmSamples() << "\n";
    std::cout << "weights:          " << contents.weights.size() << "\n";
  }
  std::cout << "audio:            " << kAudioFrames << " frames (2 s at 48 kHz) per run, " << options.runs
            << (options.runs == 1 ? " run\n" : " runs\n");

  const std::vector<NAM_SAMPLE> signal = nam_tools::make_input_signal(options.denormal_input ? 1e-38 : 1.0);
  std::vector<std::vector<NAM_SAMPLE>> inputs(model->NumInputChannels(), signal);
  std::vector<std::vector<NAM_SAMPLE>> outputs(model->NumOutputChannels(),
                                               std::vector<NAM_SAMPLE>(kAudioFrames));

  std::cout << std::fixed << std::setprecision(3);
  if (options.sweep) {
    std::cout << "buffer   median ms   real-time factor\n";
    for (const int block : kSweepBufferSizes) {
      model->Reset(rate, block);
      std::vector<double> times;
      for (int run = 0; run < options.runs; ++run)
        times.push_back(nam_tools::time_one_run(*model, inputs, outputs, block));
      const double median = nam_tools::median_of(times);
      std::cout << std::setw(6) << block << std::setw(12) << median << std::setw(18) << std::setprecision(1)
                << kAudioMilliseconds / std::max(median, 1e-9) << "x\n"
                << std::setprecision(3);
    }
    return 0;
  }
  std::vector<double> times;
  for (int run = 0; run < options.runs; ++run) {
    times.push_back(nam_tools::time_one_run(*model, inputs, outputs, options.run.buffer_size));
    if (options.verbose)
      std::cout << "run " << run + 1 << ":            " << times.back() << " ms\n";
  }

  const double median = nam_tools::median_of(times);
  const auto [fastest, slowest] = std::minmax_element(times.begin(), times.end());
  std::cout << "time (ms):        median " << median << ", min " << *fastest << ", max " << *slowest << "\n";
  std::cout << std::setprecision(1) << "real-time factor: " << kAudioMilliseconds / std::max(median, 1e-9)
            << "x (median)\n";
  return 0;
}

} // namespace

int main(int argc, char* argv[]) {
  const BenchOptions options = parse_arguments(argc, argv);
  try {
    return run_benchmark(options);
  } catch (const std::exception& e) {
    nam_tools::fail(kTool, e.what());
  }
}
