// The convolutions with one output channel (a head's rechannel to mono: 1 x 4, 1 x 8 or 1 x 16, often with
// many taps) as dot products. Vectorized over its output channels, as grouped_conv is, such a shape fills one
// lane and pays a broadcast per multiply-add. Here each frame's inputs fill a vector: lane i sums input i's
// products over the taps with fused multiply-adds, and one horizontal sum per frame adds the lanes, then the
// bias. Every frame goes this way (a frame's inputs are contiguous whatever the strides), so the roundings
// do not depend on where a frame falls in a block. Where a frame's inputs fill half a vector and the frames
// are contiguous (a head's 8-input rechannel at AVX-512, reading its history), two frames share each
// vector, with the same per-lane sums and the same halving additions, so the same values (A2's 16-tap head
// 1.48x in a kernel microbenchmark).
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after simd.h and before conv1x1.h, whose grouped_conv calls it.

/// \brief True when the shape (out, in, groups) runs as dot products here: one output, one group, 4 to 16
/// inputs (a power of two, so they fill whole vectors), and fused multiply-adds (unfused, the generic
/// path's order of additions comes first).
constexpr bool single_output_fits(const int out, const int in, const int groups) {
  return kFusedMultiplyAdd && out == 1 && groups == 1 && in >= 4 && in <= 16 && is_power_of_two(in);
}

/// \brief The sum of the lanes of `v`, pairing halves down to one lane.
template <int N>
NAM_ALWAYS_INLINE float sum_lanes(const Vec<N>& v) {
  if constexpr (N == 1)
    return v[0];
  else
    return sum_lanes<N / 2>(lanes<0, N / 2>(v) + lanes<N / 2, N / 2>(v));
}

/// \brief `kFrames` consecutive frames: per frame, a vector of per-input sums over the taps, then its lanes
/// and the bias.
template <int InCh, bool kAdd, int kFrames>
NAM_ALWAYS_INLINE void single_output_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                          const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                          const long input_stride, const float* NAM_RESTRICT addend,
                                          const long addend_stride, float* NAM_RESTRICT y,
                                          const long output_stride) {
  constexpr long kTapFloats = packed_size(1, InCh, 1);
  Vec<InCh> acc[kFrames];
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f)
    acc[f] = zeros<InCh>();
  for (int k = 0; k < taps; ++k) {
    const Vec<InCh> w = load<InCh>(weights + k * kTapFloats);
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; ++f)
      acc[f] = fused_multiply_add(w, load<InCh>(x + f * input_stride + k * tap_offset), acc[f]);
  }
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f) {
    const float total = bias[0] + sum_lanes<InCh>(acc[f]);
    y[f * output_stride] = kAdd ? addend[f * addend_stride] + total : total;
  }
}

/// \brief Lane l takes lane l ^ kDistance: each lane paired with the one kDistance away (a power of two).
template <int kDistance>
struct SwappedLanes {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l ^ kDistance; }
};

/// \brief single_output_tile for contiguous frames whose inputs fill half a vector (8 at AVX-512): two
/// frames' per-input sums in one vector (a load reads both frames' inputs), added down within each half as
/// sum_lanes adds them, so each frame gets the same value as alone.
template <int InCh, bool kAdd, int kFrames>
NAM_ALWAYS_INLINE void single_output_pairs(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                           const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                           const float* NAM_RESTRICT addend, const long addend_stride,
                                           float* NAM_RESTRICT y, const long output_stride) {
  static_assert(2 * InCh == kLanes && kFrames % 2 == 0, "two frames fill a vector");
  constexpr long kTapFloats = packed_size(1, InCh, 1);
  constexpr int kPairs = kFrames / 2;
  Vec<kLanes> acc[kPairs];
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    acc[p] = zeros<kLanes>();
  for (int k = 0; k < taps; ++k) {
    const Vec<kLanes> w = shuffle_lanes<RepeatedRows<InCh>, kLanes>(load<InCh>(weights + k * kTapFloats));
    NAM_KERNEL_UNROLL
    for (int p = 0; p < kPairs; ++p)
      acc[p] = fused_multiply_add(w, load<kLanes>(x + 2 * p * InCh + k * tap_offset), acc[p]);
  }
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p) {
    Vec<kLanes> sums = acc[p];
    [&]<int... kLevel>(std::integer_sequence<int, kLevel...>) {
      ((sums = sums + shuffle_lanes<SwappedLanes<(InCh >> (kLevel + 1))>, kLanes>(sums)), ...);
    }
    (std::make_integer_sequence<int, power_of_two_log2(InCh)>());
    const float first = bias[0] + sums[0], second = bias[0] + sums[InCh];
    const long at = 2 * p * output_stride;
    y[at] = kAdd ? addend[2 * p * addend_stride] + first : first;
    y[at + output_stride] = kAdd ? addend[(2 * p + 1) * addend_stride] + second : second;
  }
}

/// \brief grouped_conv for a shape where single_output_fits: tiles of frames, then single frames.
template <int InCh, bool kAdd>
NAM_ALWAYS_INLINE void
conv_single_output(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
                   const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
                   const float* NAM_RESTRICT addend, const long addend_stride, float* NAM_RESTRICT output,
                   const long output_stride, const int num_frames) {
  // Independent frames hide the latency of each frame's chain of multiply-adds.
  constexpr int kTile = 8;
  int t = 0;
  if constexpr (2 * InCh == kLanes) {
    if (input_stride == InCh)
      for (; t + kTile <= num_frames; t += kTile)
        single_output_pairs<InCh, kAdd, kTile>(weights, bias, taps, tap_offset, input + t * InCh,
                                               offset_if<kAdd>(addend, t * addend_stride), addend_stride,
                                               output + t * output_stride, output_stride);
  }
  for (; t + kTile <= num_frames; t += kTile)
    single_output_tile<InCh, kAdd, kTile>(weights, bias, taps, tap_offset, input + t * input_stride,
                                          input_stride, offset_if<kAdd>(addend, t * addend_stride),
                                          addend_stride, output + t * output_stride, output_stride);
  for (; t < num_frames; ++t)
    single_output_tile<InCh, kAdd, 1>(weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
                                      offset_if<kAdd>(addend, t * addend_stride), addend_stride,
                                      output + t * output_stride, output_stride);
}
