#pragma once
/// \file partitioned_convolution.h
/// \brief Zero-latency convolution with long impulse responses (Linear models of thousands of taps).
///
/// The first `P` taps are applied directly to the input history, so the output needs no future input. The
/// remaining taps are split into partitions of `P` and applied in the frequency domain (uniformly partitioned
/// overlap-save): each time `P` new input samples are complete, their spectrum joins a delay line, and the
/// next `P` output samples' share of all later partitions is one spectral multiply-accumulate per partition
/// and one inverse FFT. Cost per sample: P multiply-adds plus O(R/P + log P), against R for the direct sum.

#include <algorithm>
#include <complex>
#include <vector>

#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>

namespace nam {

namespace detail {
/// `out[t] = sum_k reversed_taps[k] * x[t + k]` for t in [0, num_frames), at the selected instruction set.
void fir_filter(const float* reversed_taps, int taps, const float* x, float* out, int num_frames);
/// `accumulator[k] += x[k] * h[k]` for k in [0, bins), at the selected instruction set.
void complex_multiply_accumulate(std::complex<float>* accumulator, const std::complex<float>* x,
                                 const std::complex<float>* h, int bins);
} // namespace detail

/// \brief Convolves one or more channels with the same impulse response `h` (`h[0]` multiplies the current
/// sample). Real-time safe after `configure()`: no allocation in `process()`.
class PartitionedConvolution {
public:
  /// \brief Prepares `channels` channels for `taps` with partitions of `partition` samples (a power of two).
  /// Clears the state. Allocates.
  void configure(const std::vector<float>& taps, int partition, int channels);
  /// \brief Returns every channel to silence (zero history).
  void reset();

  /// \brief Filters `num_frames` samples of `channel`: `out[t] = sum_j h[j] * in[t - j]`.
  template <class Sample>
  void process(int channel, const Sample* in, Sample* out, int num_frames, float bias);

  /// \brief Partition length P in samples (0 before configure()).
  int partition() const { return _partition; }

private:
  using Complex = std::complex<float>;
  struct ChannelState {
    std::vector<float> head_history;         // last partition-1 inputs, then the current partition's inputs
    std::vector<float> previous_and_current; // 2P: the previous full partition and the one being filled
    std::vector<Complex> spectra;            // delay line of input spectra, (tail partitions) x (P + 1) bins
    std::vector<float> tail;                 // the tail's contribution to the current partition's P outputs
    int filled = 0;                          // samples of the current partition received so far
    int newest = 0;                          // slot of the newest spectrum in the delay line
  };

  void finish_partition(ChannelState& state);

  int _partition = 0;
  int _tail_partitions = 0;
  std::vector<float> _head_taps_reversed; // the first P taps, oldest first
  std::vector<Complex> _tail_spectra;     // spectra of the later partitions, (tail partitions) x (P + 1)
  std::vector<ChannelState> _channels;
  Eigen::FFT<float> _fft;
  std::vector<Complex> _accumulator;
  std::vector<float> _head_sums; // the head filter's outputs for the samples of one call, within a partition
  std::vector<float> _time_scratch;
};

template <class Sample>
void PartitionedConvolution::process(const int channel, const Sample* in, Sample* out, const int num_frames,
                                     const float bias) {
  ChannelState& state = _channels[channel];
  const int p = _partition;
  const int head = static_cast<int>(_head_taps_reversed.size());
  for (int t = 0; t < num_frames;) {
    // Up to the end of the current partition at a time; head_history holds p - 1 past samples followed by
    // the current partition's samples.
    const int chunk = std::min(num_frames - t, p - state.filled);
    float* current = state.head_history.data() + (p - 1) + state.filled;
    for (int i = 0; i < chunk; ++i) {
      current[i] = static_cast<float>(in[t + i]);
      state.previous_and_current[p + state.filled + i] = current[i];
    }
    detail::fir_filter(_head_taps_reversed.data(), head, current - (head - 1), _head_sums.data(), chunk);
    for (int i = 0; i < chunk; ++i)
      out[t + i] = static_cast<Sample>(bias + _head_sums[i] + state.tail[state.filled + i]);
    state.filled += chunk;
    t += chunk;
    if (state.filled == p)
      finish_partition(state);
  }
}

} // namespace nam
