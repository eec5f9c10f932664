#pragma once
/// \file conv1x1.h
/// \brief `nam::Conv1x1`: a pointwise (kernel size 1) convolution, optionally grouped. Included by dsp.h.

#include <vector>

#include <Eigen/Dense>

#include "aligned_vector.h"
#include "kernels/registry.h"

namespace nam {

/// \brief Maps each frame (column) of a (in_channels x frames) matrix to out_channels values:
/// `out = W * in + b`.
///
/// With `groups` G, output channel o belongs to group o / (out/G) and only reads input channels of that
/// group, so W is block-diagonal and only its blocks are stored in the weight list. Weight order: for each
/// output channel, its in/G input weights (PyTorch's `Conv1d(in, out, 1, groups=G).weight` flattened), then
/// the out biases when `bias` is set.
class Conv1x1 {
public:
  Conv1x1() = default;
  /// Throws std::runtime_error when a channel count is not positive or `groups` does not divide both.
  Conv1x1(const int in_channels, const int out_channels, const bool _bias, const int groups = 1);

  /// \brief Result of the last `process_` call, in its first `num_frames` columns.
  Eigen::MatrixXf& GetOutput() { return _output; }
  /// \brief Result of the last `process_` call, in its first `num_frames` columns.
  const Eigen::MatrixXf& GetOutput() const { return _output; }

  /// \brief Sizes the output for blocks of up to `maxBufferSize` frames. Allocates.
  void SetMaxBufferSize(const int maxBufferSize);

  /// \brief Reads `get_num_weights()` values and advances `weights` past them.
  void set_weights_(std::vector<float>::iterator& weights);

  /// \brief Allocating convenience forms (not for the audio thread).
  Eigen::MatrixXf process(const Eigen::MatrixXf& input) const { return process(input, (int)input.cols()); }
  /// \brief Allocating form over the first `num_frames` columns (not for the audio thread).
  Eigen::MatrixXf process(const Eigen::MatrixXf& input, const int num_frames) const;

  /// \brief Computes the first `num_frames` columns of GetOutput(); `num_frames` must not exceed the max
  /// buffer size. Real-time safe.
  void process_(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames);

  /// \brief `destination = W * input + b` over the first `num_frames` columns: process_ into memory of the
  /// caller's (the next convolution's input, for example). Real-time safe.
  void process_into_(const Eigen::Ref<const Eigen::MatrixXf>& input, Eigen::Ref<Eigen::MatrixXf> destination,
                     const int num_frames) const;

  /// \brief `destination = W * input + b + addend` over the first `num_frames` columns, in one pass over
  /// memory (a residual or a sum fused into the product's store); rounds as process_ followed by adding
  /// `addend`. `addend` must not overlap `destination`. Real-time safe.
  void process_plus_(const Eigen::Ref<const Eigen::MatrixXf>& input,
                     const Eigen::Ref<const Eigen::MatrixXf>& addend, Eigen::Ref<Eigen::MatrixXf> destination,
                     const int num_frames) const;

  /// \brief Output channel count.
  long get_out_channels() const { return _out_channels; }
  /// \brief Input channel count.
  long get_in_channels() const { return _in_channels; }
  /// \brief Number of channel groups.
  int get_groups() const { return _num_groups; }
  /// \brief True when the layer adds a bias.
  bool has_bias() const { return _do_bias; }
  /// \brief The dense (out x in) weights, zero off the group blocks.
  const Eigen::MatrixXf& get_weight() const { return _weight; }
  /// \brief The bias; empty without one.
  const Eigen::VectorXf& get_bias() const { return _bias; }
  /// \brief Number of values `set_weights_` consumes.
  long get_num_weights() const;

  /// \brief Weight count of a layer with this shape, without building it.
  static long long count_weights(long long in_channels, long long out_channels, bool bias, long long groups);

  /// \brief Name of the kernel this layer runs (e.g. "conv1x1_o16i8g2__avx2"), or "conv1x1__generic".
  const char* kernel_name() const { return kernels::conv1x1_kernel_name(_kernel); }
  /// \brief The weights in the picked kernel's layout (kernels::pack_block_diagonal), for a kernel that
  /// computes this layer within another's pass; null on the generic path.
  const float* packed_weights() const { return _kernel ? _packed_weight.data() : nullptr; }
  /// \brief The bias in the picked kernel's layout (kernels::pack_bias; zeros without a bias), or null on
  /// the generic path.
  const float* packed_bias() const { return _kernel ? _packed_bias.data() : nullptr; }

protected:
  /// Dense (out x in) weights; entries off the group blocks stay zero.
  Eigen::MatrixXf _weight;
  /// One value per output channel; empty without a bias.
  Eigen::VectorXf _bias;
  /// Number of channel groups.
  int _num_groups = 1;

private:
  /// `out = W * in (+ b) (+ addend)` for `num_frames` columns into `out` (which may be a temporary);
  /// no addend when `addend` is null.
  void apply(const Eigen::Ref<const Eigen::MatrixXf>& input, const Eigen::Ref<const Eigen::MatrixXf>* addend,
             Eigen::Ref<Eigen::MatrixXf> out, int num_frames) const;

  long _in_channels = 0;
  long _out_channels = 0;
  bool _do_bias = false;
  bool _is_depthwise = false;
  /// Templated kernel picked for this shape when it was set; nullptr runs the generic Eigen path.
  kernels::Conv1x1Fn _kernel = nullptr;
  /// The diagonal blocks of `_weight` in the kernels' layout (kernels::pack_block_diagonal).
  AlignedVector<float> _packed_weight;
  AlignedVector<float> _packed_bias; ///< zeros without a bias (both empty without a kernel)
  Eigen::MatrixXf _output;
};

/// \brief Throws std::runtime_error unless both channel counts are positive and divisible by `groups`.
void check_conv_groups(long in_channels, long out_channels, long groups);

} // namespace nam
