// The convolutions whose outputs, padded to a power of two, fill half a vector (5 to 8 at AVX-512, 3 or 4 at
// AVX2) from an even number of inputs, in one group: the 6- and 8-channel layers of A1 and A2 at AVX-512.
// Vectorized over its outputs, as grouped_conv is, such a shape fills half of every multiply-add. Here a
// vector holds each output twice: lane 2o + h sums output o's products with the inputs of parity h, so that
// one multiply-add takes two inputs, which arrive together as one 64-bit broadcast load (no shuffle). After
// the last tap the two halves of each output are added, then the bias. Each output is thus (sum over even
// inputs + sum over odd inputs) + bias, each sum in tap order and, within a tap, input order, with fused
// multiply-adds: the kernel's own rounding, the same for every frame and stride.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after simd.h and before conv1x1.h, whose grouped_conv calls it.

/// \brief True when the shape (out, in, groups) runs on input pairs here: one with the packed input-pair
/// copy (packing.h) whose padded outputs fill half a vector, with fused multiply-adds (unfused, the generic
/// path's order of additions comes first).
constexpr bool input_pairs_fit(const int out, const int in, const int groups) {
  return kFusedMultiplyAdd && has_input_pair_copy(out, in, groups) && 2 * packed_group_rows(out) == kLanes;
}

/// \brief Lane l takes lane 2 l + H: the half of every output that sums the inputs of parity H.
template <int H>
struct ParityHalf {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return 2 * l + H; }
};

/// \brief `kFrames` consecutive frames (inputs and outputs `input_stride` and `output_stride` apart).
template <int OutCh, int InCh, bool kAdd, int kFrames>
NAM_ALWAYS_INLINE void input_pair_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                       const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                       const long input_stride, const float* NAM_RESTRICT addend,
                                       const long addend_stride, float* NAM_RESTRICT y,
                                       const long output_stride) {
  constexpr long kTapFloats = packed_size(OutCh, InCh, 1);
  constexpr long kCopyOffset = second_copy_offset(OutCh, InCh);
  Vec<kLanes> acc[kFrames];
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f)
    acc[f] = zeros<kLanes>();
  for (int k = 0; k < taps; ++k) {
    // The tap's weight vectors first, then frame by frame, so that each frame's inputs are one pointer.
    Vec<kLanes> columns[InCh / 2];
    NAM_KERNEL_UNROLL
    for (int p = 0; p < InCh / 2; ++p)
      columns[p] = load<kLanes>(weights + k * kTapFloats + kCopyOffset + p * kLanes);
    const float* NAM_RESTRICT frame_x = x + k * tap_offset;
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; ++f, frame_x += input_stride) {
      NAM_KERNEL_UNROLL
      for (int p = 0; p < InCh / 2; ++p)
        acc[f] = fused_multiply_add(columns[p], load_repeated_pair<kLanes>(frame_x + 2 * p), acc[f]);
    }
  }
  constexpr int kRows = kLanes / 2; // OutCh and the padding outputs
  const Vec<kRows> bias_vector = load<kRows>(bias);
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f)
    store_lanes<kAdd, 0, OutCh>(
        y + f * output_stride, offset_if<kAdd>(addend, f * addend_stride),
        (shuffle_lanes<ParityHalf<0>, kRows>(acc[f]) + shuffle_lanes<ParityHalf<1>, kRows>(acc[f])) +
            bias_vector);
}

/// \brief grouped_conv's sum for a shape that input_pairs_fit: tiles of frames, then single frames.
template <int OutCh, int InCh, bool kAdd>
NAM_ALWAYS_INLINE void
conv_input_pairs(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
                 const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
                 const float* NAM_RESTRICT addend, const long addend_stride, float* NAM_RESTRICT output,
                 const long output_stride, const int num_frames) {
  // Half the registers accumulate; the rest hold a tap's weight vectors and the broadcast inputs.
  constexpr int kTile = kAccumulators / 2;
  int t = 0;
  for (; t + kTile <= num_frames; t += kTile)
    input_pair_tile<OutCh, InCh, kAdd, kTile>(weights, bias, taps, tap_offset, input + t * input_stride,
                                              input_stride, offset_if<kAdd>(addend, t * addend_stride),
                                              addend_stride, output + t * output_stride, output_stride);
  for (; t < num_frames; ++t)
    input_pair_tile<OutCh, InCh, kAdd, 1>(weights, bias, taps, tap_offset, input + t * input_stride,
                                          input_stride, offset_if<kAdd>(addend, t * addend_stride),
                                          addend_stride, output + t * output_stride, output_stride);
}
