// bench_conv1x1_groups: one row per registered Conv1x1 kernel (every shape of NAM/kernels/conv1x1_shapes.inc
// on every instruction set): nanoseconds per 64-frame block through nam::Conv1x1 with the templated kernel
// and with the generic path, the speed-up, and the worst difference from a naive double-precision GEMM.
// Every kernel is also checked with and without bias, odd frame counts, a strided and a contiguous input; any
// mismatch makes the exit status 1.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "NAM/conv1x1.h"
#include "NAM/kernels/registry.h"
#include "cli.h"
#include "kernel_reference.h"

namespace {

constexpr const char* kTool = "bench_conv1x1_groups";
constexpr const char* kUsage =
    "usage: bench_conv1x1_groups [--quick | --gate-only] [--filter TEXT]\n"
    "\n"
    "For every registered Conv1x1 kernel: ns per 64-frame block, templated vs generic (median of\n"
    "repeated timings), the speed-up, and max |templated - naive GEMM|. Kernels for instruction sets this\n"
    "CPU lacks are listed as skipped.\n"
    "\n"
    "options:\n"
    "  --quick          shorter timings (for CI)\n"
    "  --gate-only      check correctness only, no timings\n"
    "  --filter TEXT    only kernels whose name contains TEXT\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 when every kernel matches, 1 on any mismatch, 2 for a bad command line.\n";

constexpr int kBlock = 64;
constexpr int kMaxFrames = 256;

struct Options {
  bool quick = false;
  bool gate_only = false;
  std::string filter;
};

Options parse_arguments(int argc, char* argv[]) {
  nam_tools::CommandLine args(kTool, kUsage, argc, argv);
  Options options;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (arg == "--quick")
      options.quick = true;
    else if (arg == "--gate-only")
      options.gate_only = true;
    else if (arg == "--filter")
      options.filter = args.value_for(arg);
    else
      args.usage_error("unexpected argument " + arg);
  }
  return options;
}

/// A Conv1x1 built while the registry is steered to one instruction set, or to the generic path.
nam::Conv1x1 make_layer(const nam::kernels::Conv1x1Kernel& kernel, const bool bias, const bool generic,
                        const std::vector<float>& weights) {
  nam::kernels::set_isa_cap(kernel.isa);
  nam::kernels::set_force_generic(generic);
  nam::Conv1x1 layer(kernel.in, kernel.out, bias, kernel.groups);
  nam::kernels::set_force_generic(false);
  std::vector<float> values = weights;
  auto it = values.begin();
  layer.set_weights_(it);
  layer.SetMaxBufferSize(kMaxFrames);
  return layer;
}

/// The correctness gate for one kernel; returns an empty string or what went wrong. `max_abs` receives the
/// largest |templated - naive|.
std::string check_kernel(const nam::kernels::Conv1x1Kernel& kernel, double& max_abs) {
  max_abs = 0.0;
  for (const bool bias : {false, true}) {
    const std::vector<float> weights =
        nam_tools::random_values(nam::Conv1x1::count_weights(kernel.in, kernel.out, bias, kernel.groups), 17);
    nam::Conv1x1 templated = make_layer(kernel, bias, false, weights);
    nam::Conv1x1 generic = make_layer(kernel, bias, true, weights);
    if (std::string(templated.kernel_name()) != kernel.name)
      return std::string("picked ") + templated.kernel_name();
    // A strided input (the top rows of a taller matrix) and a contiguous one, which narrow shapes process
    // as whole vectors of frames.
    for (const int spare_rows : {3, 0}) {
      const Eigen::MatrixXf tall = nam_tools::random_matrix(kernel.in + spare_rows, kMaxFrames, 29);
      const auto input = tall.topRows(kernel.in);
      const nam_tools::NaiveResult expected =
          nam_tools::naive_grouped_conv(input, weights, kernel.out, 1, 1, kernel.groups, bias);
      for (const int frames : {1, 2, 7, 63, kBlock, 65, kMaxFrames}) {
        templated.process_(input, frames);
        generic.process_(input, frames);
        double diff = 0.0;
        const double templated_ratio =
            nam_tools::tolerance_ratio(templated.GetOutput().leftCols(frames), expected, 0, frames, &diff);
        const double generic_ratio =
            nam_tools::tolerance_ratio(generic.GetOutput().leftCols(frames), expected, 0, frames);
        max_abs = std::max(max_abs, diff);
        if (templated_ratio > 1.0 || generic_ratio > 1.0)
          return "mismatch at " + std::to_string(frames) + " frames" + (bias ? " with bias" : "") +
                 (spare_rows ? ", strided input" : ", contiguous input") + " (templated " +
                 std::to_string(templated_ratio) + ", generic " + std::to_string(generic_ratio) +
                 " x tolerance)";
      }
    }
  }
  return "";
}

/// Calls of `layer.process_` on a 64-frame block that take about `target_ns`.
long calibrate(nam::Conv1x1& layer, const Eigen::MatrixXf& input, const double target_ns) {
  for (long calls = 1;; calls *= 2) {
    const auto start = std::chrono::steady_clock::now();
    for (long c = 0; c < calls; ++c)
      layer.process_(input, kBlock);
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (ns >= target_ns / 4 || calls >= (1L << 26))
      return std::max(1L, static_cast<long>(calls * target_ns / std::max(ns, 1.0)));
  }
}

/// Nanoseconds per call of `layer.process_` over `calls` calls.
double time_calls(nam::Conv1x1& layer, const Eigen::MatrixXf& input, const long calls) {
  const auto start = std::chrono::steady_clock::now();
  for (long c = 0; c < calls; ++c)
    layer.process_(input, kBlock);
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / calls;
}

double median(std::vector<double> samples) {
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

/// Median nanoseconds per 64-frame block of the generic and the templated layer, timed in alternation so
/// that both see the same machine load.
std::pair<double, double> time_pair(nam::Conv1x1& generic, nam::Conv1x1& templated,
                                    const Eigen::MatrixXf& input, const bool quick) {
  const double target_ns = quick ? 2e5 : 1e6; // per timed repetition
  const int repetitions = quick ? 5 : 15;
  const long generic_calls = calibrate(generic, input, target_ns);
  const long templated_calls = calibrate(templated, input, target_ns);
  std::vector<double> generic_ns, templated_ns;
  for (int r = 0; r < repetitions; ++r) {
    generic_ns.push_back(time_calls(generic, input, generic_calls));
    templated_ns.push_back(time_calls(templated, input, templated_calls));
  }
  return {median(generic_ns), median(templated_ns)};
}

} // namespace

int main(int argc, char* argv[]) {
  const Options options = parse_arguments(argc, argv);
  const nam::kernels::Isa initial_cap = nam::kernels::isa_cap();
  std::printf("CPU: best instruction set %s. %s per %d-frame block, with bias.\n",
              nam::kernels::isa_name(nam::kernels::detected_isa()),
              options.gate_only ? "Correctness only" : "Nanoseconds", kBlock);
  std::printf("%-28s %10s %10s %8s %11s  %s\n", "kernel", "generic", "templated", "speedup", "max|diff|",
              "status");
  int checked = 0, skipped = 0, failed = 0;
  std::vector<double> speedups;
  for (const auto& kernel : nam::kernels::conv1x1_kernels()) {
    if (std::string(kernel.name).find(options.filter) == std::string::npos)
      continue;
    if (!nam::kernels::isa_available(kernel.isa)) {
      std::printf("%-28s %10s %10s %8s %11s  skipped: this CPU has no %s\n", kernel.name, "-", "-", "-", "-",
                  nam::kernels::isa_name(kernel.isa));
      ++skipped;
      continue;
    }
    ++checked;
    double max_abs = 0.0;
    const std::string problem = check_kernel(kernel, max_abs);
    if (!problem.empty())
      ++failed;
    if (options.gate_only) {
      std::printf("%-28s %10s %10s %8s %11.2e  %s\n", kernel.name, "-", "-", "-", max_abs,
                  problem.empty() ? "ok" : problem.c_str());
      continue;
    }
    const std::vector<float> weights =
        nam_tools::random_values(nam::Conv1x1::count_weights(kernel.in, kernel.out, true, kernel.groups), 5);
    nam::Conv1x1 templated = make_layer(kernel, true, false, weights);
    nam::Conv1x1 generic = make_layer(kernel, true, true, weights);
    const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in, kBlock, 3);
    const auto [generic_ns, templated_ns] = time_pair(generic, templated, input, options.quick);
    speedups.push_back(generic_ns / templated_ns);
    std::printf("%-28s %10.1f %10.1f %7.2fx %11.2e  %s\n", kernel.name, generic_ns, templated_ns,
                generic_ns / templated_ns, max_abs, problem.empty() ? "ok" : problem.c_str());
  }
  nam::kernels::set_isa_cap(initial_cap);
  std::printf("%d kernels checked, %d skipped, %d mismatched", checked, skipped, failed);
  if (!speedups.empty()) {
    std::sort(speedups.begin(), speedups.end());
    std::printf("; speed-up min %.2fx, median %.2fx, max %.2fx", speedups.front(),
                speedups[speedups.size() / 2], speedups.back());
  }
  std::printf("\n");
  return failed == 0 ? 0 : 1;
}
