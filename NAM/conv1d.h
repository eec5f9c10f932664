#pragma once
/// \file conv1d.h
/// \brief `nam::Conv1D`: a dilated causal convolution that keeps its own input history across calls.

#include <vector>

#include <Eigen/Dense>

#include "aligned_vector.h"
#include "conv1x1.h"
#include "kernels/registry.h"
#include "ring_buffer.h"

namespace nam {

/// \brief Causal convolution over time of a (in_channels x frames) signal with `kernel_size` taps spaced
/// `dilation` frames apart:
/// `y_t = b + sum_k W_k x_(t - (kernel_size - 1 - k) * dilation)`, so the last tap sees the current frame.
///
/// Frames before the first processed one come from the history, which is zero after `SetMaxBufferSize`.
/// Weight order: for each output channel, for each of its in/groups inputs, the `kernel_size` taps (PyTorch's
/// `Conv1d.weight` flattened), then the out biases when there is a bias.
class Conv1D {
public:
  Conv1D() = default;
  /// \brief `set_size_` with a bias when `bias` is nonzero.
  Conv1D(const int in_channels, const int out_channels, const int kernel_size, const int bias,
         const int dilation, const int groups = 1);

  /// \brief Reads `get_num_weights()` values in the documented order and advances `weights` past them.
  void set_weights_(std::vector<float>::iterator& weights);
  /// \brief Sets the shape (all weights zero). Throws std::runtime_error for non-positive channel counts or
  /// kernel size, a negative dilation, or groups that do not divide the channel counts.
  void set_size_(const int in_channels, const int out_channels, const int kernel_size, const bool do_bias,
                 const int _dilation, const int groups = 1);
  /// \brief `set_size_` then `set_weights_` (note the order of `_dilation` and `do_bias`, as in the
  /// original).
  void set_size_and_weights_(const int in_channels, const int out_channels, const int kernel_size,
                             const int _dilation, const bool do_bias, const int groups,
                             std::vector<float>::iterator& weights);

  /// \brief Sizes the output and the history for blocks of up to `maxBufferSize` frames and zeroes the
  /// history. Allocates.
  void SetMaxBufferSize(const int maxBufferSize);

  /// \brief Result of the last `Process` call, in its first `num_frames` columns.
  Eigen::MatrixXf& GetOutput() { return _output; }
  /// \brief Result of the last `Process` call, in its first `num_frames` columns.
  const Eigen::MatrixXf& GetOutput() const { return _output; }

  /// \brief Consumes the next `num_frames` input columns (at most the max buffer size) and computes their
  /// outputs into GetOutput(). Real-time safe.
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames);

  /// \brief Where the next Process() of `num_frames` frames keeps its input: contiguous columns of
  /// get_in_channels() floats. A producer may compute that input there; Process() of it then copies
  /// nothing. Valid until that Process(). Real-time safe.
  float* input_block(const int num_frames) { return _history.next_block(num_frames); }

  /// \brief Consumes the next `num_frames` input columns as Process() does, without computing the outputs,
  /// for a caller that convolves them itself: returns the oldest tap's window of the block (the input
  /// `(kernel_size - 1) * dilation` frames ago, get_in_channels() floats per frame); tap k's window starts
  /// k * dilation frames later. Valid until the next call that consumes input. Real-time safe.
  const float* consume_input(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames);

  /// \brief Whether process_plus_mixin_() can add `mixin` in this layer's pass: `mixin` runs a kernel from
  /// one input channel to this layer's outputs, and this layer's tap kernel has an input-mixin variant.
  bool can_add_mixin(const Conv1x1& mixin) const {
    return _mixin_kernel && mixin.packed_weights() && mixin.get_in_channels() == 1 &&
           mixin.get_out_channels() == _out_channels;
  }
  /// \brief Consumes the next `num_frames` input columns as Process() does and writes, in the same pass,
  /// `destination = ` their convolution `+ mixin(condition)` (one `condition` float per frame), with the
  /// values of Process() followed by `mixin.process_plus_(condition, GetOutput(), destination)`; GetOutput()
  /// is left as it was. Only when can_add_mixin(mixin). Real-time safe.
  void process_plus_mixin_(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames,
                           const Conv1x1& mixin, const float* condition,
                           Eigen::Ref<Eigen::MatrixXf> destination);
  /// \brief Stateless form: output columns [j_start, j_start + ncols) from input columns [i_start, i_start +
  /// ncols), reading the taps' history from the input columns before i_start (which must exist).
  void process_(const Eigen::MatrixXf& input, Eigen::MatrixXf& output, const long i_start, const long ncols,
                const long j_start) const;

  /// \brief Input channel count.
  long get_in_channels() const { return _in_channels; }
  /// \brief Output channel count.
  long get_out_channels() const { return _out_channels; }
  /// \brief Number of taps.
  long get_kernel_size() const { return _kernel_size; }
  /// \brief Values `set_weights_` consumes: out * in / groups * kernel_size, plus out for the bias.
  long get_num_weights() const;
  /// \brief Frames between taps.
  int get_dilation() const { return _dilation; }
  /// \brief Number of channel groups.
  int get_groups() const { return _num_groups; }
  /// \brief True when the layer adds a bias.
  bool has_bias() const { return _bias.size() > 0; }
  /// \brief The dense (out x in) weights of tap `k` (0 is the oldest), zero off the group blocks.
  const Eigen::MatrixXf& get_tap_weight(const int k) const { return _weight[k]; }
  /// \brief The bias; empty without one.
  const Eigen::VectorXf& get_bias() const { return _bias; }
  /// \brief The taps' weights in the picked kernel's layout (kernels::pack_block_diagonal, tap after tap),
  /// for a kernel that computes this layer within another's pass; null on the generic path.
  const float* packed_weights() const { return _tap_kernel ? _packed_weight.data() : nullptr; }
  /// \brief The bias in the picked kernel's layout (zeros without a bias), or null on the generic path.
  const float* packed_bias() const { return _tap_kernel ? _packed_bias.data() : nullptr; }
  /// \brief Name of the kernel this layer runs (e.g. "conv1d_tap_o8i8g4__avx2"), or "conv1d_tap__generic".
  const char* kernel_name() const { return kernels::conv1d_tap_kernel_name(_tap_kernel); }

  /// \brief Weight count of a layer with this shape, without building it.
  static long long count_weights(long long in_channels, long long out_channels, long long kernel_size,
                                 bool bias, long long groups);

  /// \brief Prewarm cache: a converged history under constant input is that input's column repeated, so
  /// after one real prewarm the state can be restored by filling the history instead of running audio.
  bool HasCachedPrewarmState() const { return _has_cached_prewarm_state; }
  /// \brief Fills the whole history with the cached column (no-op without a cache).
  void PrewarmFromCache();
  /// \brief Remembers the most recent input column as the converged state.
  void CacheStateAsPrewarmed();

protected:
  /// One dense (out x in) matrix per tap; entries off the group blocks stay zero.
  std::vector<Eigen::MatrixXf> _weight;
  /// One value per output channel; empty without a bias.
  Eigen::VectorXf _bias;
  /// Frames between taps.
  int _dilation = 1;
  /// Number of channel groups.
  int _num_groups = 1;

private:
  /// Refreshes the kernels' copy (`_packed_weight`, `_packed_bias`) of `_weight` and `_bias`.
  void pack_taps();
  /// Computes `out` (out x frames) from the input windows of the taps: `tap_window(delay)` is the (in x
  /// frames) input delayed by `delay` frames.
  template <class TapWindow, class Out>
  void convolve(const TapWindow& tap_window, Out&& out) const;

  long _in_channels = 0;
  long _out_channels = 0;
  int _kernel_size = 0;
  bool _is_depthwise = false;
  /// Templated kernel for this tap shape, picked in set_size_ (it runs all taps); nullptr runs the generic
  /// Eigen path.
  kernels::Conv1DTapFn _tap_kernel = nullptr;
  /// The tap kernel's input-mixin variant (process_plus_mixin_), or nullptr.
  kernels::Conv1DMixinFn _mixin_kernel = nullptr;
  /// Each tap's diagonal blocks in the kernels' layout, tap after tap (kernels::pack_block_diagonal).
  AlignedVector<float> _packed_weight;
  AlignedVector<float> _packed_bias; ///< zeros without a bias (both empty without a kernel)
  RingBuffer _history;
  Eigen::MatrixXf _output;
  Eigen::VectorXf _cached_prewarm_state;
  bool _has_cached_prewarm_state = false;
};

} // namespace nam
