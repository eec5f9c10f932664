#pragma once
/// \file film.h
/// \brief `nam::FiLM`: feature-wise linear modulation of a signal by a condition.

#include <stdexcept>
#include <vector>

#include <Eigen/Dense>

#include "dsp.h"

namespace nam {

/// \brief Scales (and, with `shift`, offsets) each row of a signal by values computed from the condition:
/// `q = W c + b`; `out = s * q[0:D] + q[D:2D]` with shift, `out = s * q` without (elementwise).
///
/// The weights are those of a Conv1x1 from the condition to `(shift ? 2 : 1) * input_dim` rows with bias.
class FiLM {
public:
  /// \brief Modulates `input_dim` rows from `condition_dim` condition rows; `groups` groups the Conv1x1.
  /// Throws std::runtime_error for non-positive sizes or groups that do not divide both of its sizes.
  FiLM(const int condition_dim, const int input_dim, const bool shift, const int groups = 1) :
      _film(condition_dim, (shift ? 2 : 1) * input_dim, true, groups),
      _input_dim(input_dim),
      _shift(shift) {}

  /// \brief Weight count of a FiLM with this shape, without building it.
  static long long count_weights(long long condition_dim, long long input_dim, bool shift, long long groups) {
    return Conv1x1::count_weights(condition_dim, (shift ? 2 : 1) * input_dim, true, groups);
  }

  /// \brief Sizes the buffers for blocks of up to `maxBufferSize` frames. Allocates.
  void SetMaxBufferSize(const int maxBufferSize) {
    _film.SetMaxBufferSize(maxBufferSize);
    _output.setZero(_input_dim, maxBufferSize);
  }
  /// \brief Reads count_weights() values (the Conv1x1's weights, then its bias) and advances `weights`.
  void set_weights_(std::vector<float>::iterator& weights) { _film.set_weights_(weights); }

  /// \brief Modulates the first `num_frames` columns of `input` into GetOutput(). Real-time safe.
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& input,
               const Eigen::Ref<const Eigen::MatrixXf>& condition, const int num_frames) {
    _film.process_(condition, num_frames);
    _output.leftCols(num_frames) = input.leftCols(num_frames);
    modulate(_output.leftCols(num_frames), num_frames);
  }

  /// \brief Modulates the first `num_frames` columns of `signal` in place. Real-time safe.
  template <class Signal>
  void Process_(Signal&& signal, const Eigen::Ref<const Eigen::MatrixXf>& condition, const int num_frames) {
    _film.process_(condition, num_frames);
    modulate(signal.leftCols(num_frames), num_frames);
  }

  /// \brief Result of the last Process(), in its first `num_frames` columns (input_dim rows).
  Eigen::MatrixXf& GetOutput() { return _output; }
  /// \brief Rows of the condition.
  long get_condition_dim() const { return _film.get_in_channels(); }
  /// \brief Rows of the modulated signal.
  long get_input_dim() const { return _input_dim; }

private:
  // A plain loop per column: Eigen's traversal of a dynamic-size block works out each column's alignment
  // first, which costs more than the few multiplies of a narrow signal (FiLM took 47 % of a model with
  // eight FiLMs per layer). The multiply and the add round separately, as two Eigen statements would.
  template <class Signal>
  void modulate(Signal&& signal, const int num_frames) {
    const Eigen::MatrixXf& q = _film.GetOutput();
    const long rows = _input_dim;
    for (int t = 0; t < num_frames; ++t) {
      float* const s = signal.col(t).data();
      const float* const scale = q.col(t).data();
      if (_shift) {
        const float* const offset = scale + rows;
        for (long r = 0; r < rows; ++r) {
          const float scaled = s[r] * scale[r];
          s[r] = scaled + offset[r];
        }
      } else {
        for (long r = 0; r < rows; ++r)
          s[r] *= scale[r];
      }
    }
  }

  Conv1x1 _film;
  long _input_dim;
  bool _shift;
  Eigen::MatrixXf _output;
};

} // namespace nam
