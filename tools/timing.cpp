#include "timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace nam_tools {
namespace {

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

} // namespace

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

double benchmark_sample_rate(const nam::DSP& model) {
  const double expected_rate = model.GetExpectedSampleRate();
  return expected_rate > 0 ? expected_rate : kAudioRate;
}

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

} // namespace nam_tools
