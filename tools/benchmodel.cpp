// benchmodel: measures how fast a model runs. Times process() on two seconds of 48 kHz audio, several
// times, and prints the median, minimum and maximum with the real-time factor and how the tool was built.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "cli.h"

namespace {

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
    nam_tools::RunOptions::kHelp +
    "  --runs R         number of timed runs (1 to 1000, default 5)\n"
    "  --verbose        also print each run's time, the prewarm length and the weight count\n"
    "  --sweep          time every buffer size from 16 to 2048 (powers of two) instead of --buffer\n"
    "  --denormal-input scale the input to denormal floats (~1e-39), to show they cost no extra time\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if the model cannot be loaded or run, 2 for a bad command line.\n";

constexpr int kAudioRate = 48000;
constexpr int kAudioFrames = 2 * kAudioRate;
constexpr long kMaxRuns = 1000;
constexpr int kSweepBufferSizes[] = {16, 32, 64, 128, 256, 512, 1024, 2048};

struct BenchOptions {
  nam_tools::RunOptions run;
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

std::string compiler_description() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#elif defined(_MSC_VER)
  return "MSVC " + std::to_string(_MSC_VER);
#else
  return "unknown compiler";
#endif
}

/// The instruction set this file was compiled for. The library gets the same flags (NAM_NATIVE adds
/// -march=native publicly), so this tells a portable build from a native one.
const char* compile_time_isa() {
#if defined(__AVX512F__)
  return "AVX-512 enabled at compile time (-march/-m flags)";
#elif defined(__AVX2__)
  return "AVX2 enabled at compile time (-march/-m flags)";
#elif defined(__x86_64__) || defined(_M_X64)
  return "portable x86-64 (no -march)";
#elif defined(__aarch64__) || defined(_M_ARM64)
  return "ARM64";
#else
  return "portable";
#endif
}

std::string build_description() {
  std::string type;
#ifdef NAM_BUILD_TYPE
  type = NAM_BUILD_TYPE;
#endif
#ifdef NDEBUG
  type += type.empty() ? "assertions off" : " (assertions off)";
#else
  type += type.empty() ? "assertions on" : " (assertions on)";
#endif
  const char* sample_type = sizeof(NAM_SAMPLE) == sizeof(double) ? "double" : "float";
  return type + ", " + compiler_description() + ", " + compile_time_isa() + ", NAM_SAMPLE = " + sample_type;
}

/// The benchmark input: a 220 Hz sine at half scale plus a little noise from a fixed-seed generator, so
/// every run and every machine sees the same samples. `scale` multiplies it (1e-38 makes it denormal).
std::vector<NAM_SAMPLE> make_input_signal(const double scale) {
  constexpr double kPi = 3.14159265358979323846;
  std::vector<NAM_SAMPLE> signal(kAudioFrames);
  std::uint32_t state = 12345;
  for (int i = 0; i < kAudioFrames; ++i) {
    state = state * 1664525u + 1013904223u; // 32-bit linear congruential generator
    const double noise = static_cast<double>(state) / 4294967296.0 - 0.5;
    signal[i] =
        static_cast<NAM_SAMPLE>(scale * (0.5 * std::sin(2.0 * kPi * 220.0 * i / kAudioRate) + 0.1 * noise));
  }
  return signal;
}

/// Processes the whole input once in blocks of `block` frames; returns the elapsed milliseconds.
double time_one_run(nam::DSP& model, std::vector<std::vector<NAM_SAMPLE>>& inputs,
                    std::vector<std::vector<NAM_SAMPLE>>& outputs, int block) {
  std::vector<NAM_SAMPLE*> input_pointers(inputs.size());
  std::vector<NAM_SAMPLE*> output_pointers(outputs.size());
  const auto start = std::chrono::steady_clock::now();
  for (int first = 0; first < kAudioFrames; first += block) {
    for (std::size_t c = 0; c < inputs.size(); ++c)
      input_pointers[c] = inputs[c].data() + first;
    for (std::size_t c = 0; c < outputs.size(); ++c)
      output_pointers[c] = outputs[c].data() + first;
    model.process(input_pointers.data(), output_pointers.data(), std::min(block, kAudioFrames - first));
  }
  const auto stop = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

int run_benchmark(const BenchOptions& options) {
  nam::dspData contents;
  std::unique_ptr<nam::DSP> model =
      nam_tools::load_model_or_exit(kTool, options.model_path, options.run, contents);

  const double expected_rate = model->GetExpectedSampleRate();
  const double rate = expected_rate > 0 ? expected_rate : kAudioRate;
  model->Reset(rate, options.run.buffer_size);

  std::cout << "model:            " << options.model_path << "\n";
  std::cout << "architecture:     " << contents.architecture << " (file version " << contents.version
            << ")\n";
  std::cout << "channels in/out:  " << model->NumInputChannels() << " / " << model->NumOutputChannels()
            << "\n";
  std::cout << "sample rate:      " << rate
            << (expected_rate > 0 ? " Hz (expected by the model)\n" : " Hz (the model does not say)\n");
  std::cout << "build:            " << build_description() << "\n";
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

  const std::vector<NAM_SAMPLE> signal = make_input_signal(options.denormal_input ? 1e-38 : 1.0);
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
        times.push_back(time_one_run(*model, inputs, outputs, block));
      const double median = median_of(times);
      std::cout << std::setw(6) << block << std::setw(12) << median << std::setw(18) << std::setprecision(1)
                << 1000.0 * kAudioFrames / kAudioRate / std::max(median, 1e-9) << "x\n"
                << std::setprecision(3);
    }
    return 0;
  }
  std::vector<double> times;
  for (int run = 0; run < options.runs; ++run) {
    times.push_back(time_one_run(*model, inputs, outputs, options.run.buffer_size));
    if (options.verbose)
      std::cout << "run " << run + 1 << ":            " << times.back() << " ms\n";
  }

  const double median = median_of(times);
  const auto [fastest, slowest] = std::minmax_element(times.begin(), times.end());
  std::cout << "time (ms):        median " << median << ", min " << *fastest << ", max " << *slowest << "\n";
  const double audio_ms = 1000.0 * kAudioFrames / kAudioRate;
  std::cout << std::setprecision(1) << "real-time factor: " << audio_ms / std::max(median, 1e-9)
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
