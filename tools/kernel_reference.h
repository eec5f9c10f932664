#pragma once
// The oracle shared by the kernel gates (bench_conv1x1_groups, check_conv1d_grouped) and the kernel tests:
// seeded random data, a naive grouped convolution computed in double straight from the flat weight list
// (PyTorch order, as the .nam file stores it), and the tolerance that "templated == generic == naive"
// means.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

namespace nam_tools {

/// Relative tolerance of a float result against the double oracle, as a fraction of the sum of the
/// magnitudes of the terms that make up the value (the scale of float rounding in that sum).
constexpr double kKernelTolerance = 1e-6;

/// Uniform values in [-1, 1) from a fixed-seed generator: the same data on every run and machine.
inline std::vector<float> random_values(const long count, const std::uint32_t seed) {
  std::vector<float> values(static_cast<size_t>(count));
  std::uint32_t state = seed * 2654435761u + 12345u;
  for (float& v : values) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<double>(state >> 8) / 8388608.0 - 1.0);
  }
  return values;
}

/// A random (rows x cols) matrix; see random_values.
inline Eigen::MatrixXf random_matrix(const long rows, const long cols, const std::uint32_t seed) {
  const std::vector<float> values = random_values(rows * cols, seed);
  return Eigen::Map<const Eigen::MatrixXf>(values.data(), rows, cols);
}

/// The exact result of a convolution and, per value, the sum of the magnitudes of its terms.
struct NaiveResult {
  Eigen::MatrixXd value;
  Eigen::MatrixXd magnitude;
};

/// Grouped causal convolution of `x` (in x frames, frame 0 first; earlier frames are zero) with
/// `kernel_size` taps `dilation` apart, weights in the .nam order (per output, per input of its group, per
/// tap; then the biases): y[o, t] = b[o] + sum_i sum_k w[o, i, k] x[i, t - (kernel_size - 1 - k) dilation].
/// A Conv1x1 is kernel_size 1.
inline NaiveResult naive_grouped_conv(const Eigen::MatrixXf& x, const std::vector<float>& weights,
                                      const int out, const int kernel_size, const int dilation,
                                      const int groups, const bool bias) {
  const long in = x.rows();
  const long frames = x.cols();
  const long in_per_group = in / groups;
  const long out_per_group = out / groups;
  NaiveResult result{Eigen::MatrixXd::Zero(out, frames), Eigen::MatrixXd::Zero(out, frames)};
  const size_t bias_start = static_cast<size_t>(out * in_per_group * kernel_size);
  for (long t = 0; t < frames; ++t)
    for (long o = 0; o < out; ++o) {
      double sum = bias ? weights[bias_start + o] : 0.0;
      double magnitude = std::abs(sum);
      const long first_input = (o / out_per_group) * in_per_group;
      for (long i = 0; i < in_per_group; ++i)
        for (long k = 0; k < kernel_size; ++k) {
          const long source = t - (kernel_size - 1 - k) * static_cast<long>(dilation);
          if (source < 0)
            continue;
          const double term = static_cast<double>(weights[(o * in_per_group + i) * kernel_size + k]) *
                              static_cast<double>(x(first_input + i, source));
          sum += term;
          magnitude += std::abs(term);
        }
      result.value(o, t) = sum;
      result.magnitude(o, t) = magnitude;
    }
  return result;
}

/// Worst error of `actual` (columns [0, cols)) against `expected` columns [first, first + cols), in units
/// of the tolerance: at most 1 passes. Also returns the largest absolute difference through `max_abs`.
inline double tolerance_ratio(const Eigen::Ref<const Eigen::MatrixXf>& actual, const NaiveResult& expected,
                              const long first, const long cols, double* max_abs = nullptr) {
  double worst = 0.0;
  double largest = 0.0;
  for (long t = 0; t < cols; ++t)
    for (long o = 0; o < actual.rows(); ++o) {
      const double diff = std::abs(static_cast<double>(actual(o, t)) - expected.value(o, first + t));
      const double allowed = kKernelTolerance * expected.magnitude(o, first + t) + 1e-30;
      largest = std::max(largest, diff);
      worst = std::max(worst, std::isfinite(diff) ? diff / allowed : HUGE_VAL);
    }
  if (max_abs)
    *max_abs = largest;
  return worst;
}

} // namespace nam_tools
