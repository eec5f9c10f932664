// check_conv1d_grouped: the Conv1D gate. For every registered Conv1D tap kernel (every shape of
// NAM/kernels/conv1d_tap_shapes.inc on every instruction set this CPU runs), kernel sizes 1 to 6 and
// dilations 1, 2, 7 and 64, streams a random signal through nam::Conv1D in blocks of random sizes (so the
// history crosses block boundaries and ring-buffer rewinds), once with the templated kernel and once on the
// generic path, and compares every output with a naive double-precision convolution of the whole signal.
// Prints one line per mismatch and a summary; the exit status is 1 on any mismatch.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "NAM/conv1d.h"
#include "NAM/kernels/registry.h"
#include "cli.h"
#include "kernel_reference.h"

namespace {

constexpr const char* kTool = "check_conv1d_grouped";
constexpr const char* kUsage =
    "usage: check_conv1d_grouped [--quick] [--verbose]\n"
    "\n"
    "Checks every registered Conv1D tap kernel x kernel sizes 1-6 x dilations {1, 2, 7, 64}, templated\n"
    "and generic, against a naive convolution, over blocks of random sizes.\n"
    "\n"
    "options:\n"
    "  --quick          a shorter signal per case\n"
    "  --verbose        one line per case\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 when every case matches, 1 on any mismatch, 2 for a bad command line.\n";

constexpr int kKernelSizes[] = {1, 2, 3, 4, 5, 6};
constexpr int kDilations[] = {1, 2, 7, 64};
constexpr int kMaxBlock = 96;

struct Options {
  bool quick = false;
  bool verbose = false;
};

Options parse_arguments(int argc, char* argv[]) {
  nam_tools::CommandLine args(kTool, kUsage, argc, argv);
  Options options;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (arg == "--quick")
      options.quick = true;
    else if (arg == "--verbose")
      options.verbose = true;
    else
      args.usage_error("unexpected argument " + arg);
  }
  return options;
}

nam::Conv1D make_conv(const nam::kernels::Conv1DTapKernel& kernel, const int kernel_size, const int dilation,
                      const bool bias, const bool generic, std::vector<float> weights) {
  nam::kernels::set_isa_cap(kernel.isa);
  nam::kernels::set_force_generic(generic);
  nam::Conv1D conv(kernel.in, kernel.out, kernel_size, bias, dilation, kernel.groups);
  nam::kernels::set_force_generic(false);
  auto it = weights.begin();
  conv.set_weights_(it);
  conv.SetMaxBufferSize(kMaxBlock);
  return conv;
}

/// One case; returns how far the worse of the two paths is from the oracle, in units of the tolerance, or
/// a negative value when the templated layer did not pick `kernel`.
double check_case(const nam::kernels::Conv1DTapKernel& kernel, const int kernel_size, const int dilation,
                  const bool bias, const long frames, const std::uint32_t seed) {
  const std::vector<float> weights = nam_tools::random_values(
      nam::Conv1D::count_weights(kernel.in, kernel.out, kernel_size, bias, kernel.groups), seed);
  nam::Conv1D templated = make_conv(kernel, kernel_size, dilation, bias, false, weights);
  nam::Conv1D generic = make_conv(kernel, kernel_size, dilation, bias, true, weights);
  if (std::string(templated.kernel_name()) != kernel.name)
    return -1.0;
  // A strided signal (the top rows of a taller matrix), as layers pass blocks of bigger buffers.
  const Eigen::MatrixXf tall = nam_tools::random_matrix(kernel.in + 2, frames, seed + 1);
  const auto signal = tall.topRows(kernel.in);
  const nam_tools::NaiveResult expected =
      nam_tools::naive_grouped_conv(signal, weights, kernel.out, kernel_size, dilation, kernel.groups, bias);
  double worst = 0.0;
  std::uint32_t state = seed;
  for (long start = 0; start < frames;) {
    state = state * 1664525u + 1013904223u;
    const int block = static_cast<int>(std::min<long>(1 + (state >> 8) % kMaxBlock, frames - start));
    const auto input = signal.middleCols(start, block);
    templated.Process(input, block);
    generic.Process(input, block);
    worst = std::max(
        {worst, nam_tools::tolerance_ratio(templated.GetOutput().leftCols(block), expected, start, block),
         nam_tools::tolerance_ratio(generic.GetOutput().leftCols(block), expected, start, block)});
    start += block;
  }
  return worst;
}

} // namespace

int main(int argc, char* argv[]) {
  const Options options = parse_arguments(argc, argv);
  const nam::kernels::Isa initial_cap = nam::kernels::isa_cap();
  int cases = 0, failed = 0, shapes = 0, skipped_kernels = 0;
  double worst = 0.0;
  std::uint32_t seed = 1;
  for (const auto& kernel : nam::kernels::conv1d_tap_kernels()) {
    if (!nam::kernels::isa_available(kernel.isa)) {
      ++skipped_kernels;
      continue;
    }
    ++shapes;
    for (const int kernel_size : kKernelSizes)
      for (const int dilation : kDilations) {
        const bool bias = (cases % 2) == 0;
        // Long enough for the history to be read across several blocks and a few ring-buffer rewinds.
        const long frames = (kernel_size - 1) * dilation + (options.quick ? 150 : 600);
        const double ratio = check_case(kernel, kernel_size, dilation, bias, frames, ++seed);
        ++cases;
        worst = std::max(worst, ratio);
        const bool ok = ratio >= 0.0 && ratio <= 1.0;
        if (!ok)
          ++failed;
        if (!ok || options.verbose)
          std::printf("%s %s k%d d%d%s: %s\n", ok ? "ok  " : "FAIL", kernel.name, kernel_size, dilation,
                      bias ? " bias" : "",
                      ratio < 0.0 ? "did not pick this kernel"
                                  : (std::to_string(ratio) + " x tolerance").c_str());
      }
  }
  nam::kernels::set_isa_cap(initial_cap);
  std::printf(
      "check_conv1d_grouped: %d cases (%d kernels x %zu kernel sizes x %zu dilations), %d mismatched, "
      "worst error %.3f x tolerance; %d kernels skipped (instruction set missing on this CPU)\n",
      cases, shapes, std::size(kKernelSizes), std::size(kDilations), failed, worst, skipped_kernels);
  return failed == 0 && cases > 0 ? 0 : 1;
}
