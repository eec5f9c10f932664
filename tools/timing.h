#pragma once
// The timing pieces shared by benchmodel and bench_all: the benchmark input, one timed pass over it, the
// median, and a description of how the tool was built (so published numbers say what produced them).

#include <string>
#include <vector>

#include "NAM/dsp.h"

namespace nam_tools {

constexpr int kAudioRate = 48000;
constexpr int kAudioFrames = 2 * kAudioRate; // every timed run processes 2 s of 48 kHz audio
constexpr double kAudioMilliseconds = 1000.0 * kAudioFrames / kAudioRate;

/// The benchmark input, kAudioFrames long: a 220 Hz sine at half scale plus a little noise from a
/// fixed-seed generator, so every run and every machine sees the same samples. `scale` multiplies it
/// (1e-38 makes it denormal).
std::vector<NAM_SAMPLE> make_input_signal(double scale);

/// The rate benchmarks Reset() a model at: the one it expects, or kAudioRate when the file does not say.
double benchmark_sample_rate(const nam::DSP& model);

/// Processes the whole input (one kAudioFrames-long vector per channel) once in blocks of `block` frames;
/// returns the elapsed milliseconds.
double time_one_run(nam::DSP& model, std::vector<std::vector<NAM_SAMPLE>>& inputs,
                    std::vector<std::vector<NAM_SAMPLE>>& outputs, int block);

double median_of(std::vector<double> values);

/// Build type (NAM_BUILD_TYPE when the target defines it), assertions, compiler, the instruction set the
/// tool was compiled for and the sample type.
std::string build_description();

} // namespace nam_tools
