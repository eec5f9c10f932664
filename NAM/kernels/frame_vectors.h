// The narrow convolutions vectorized over frames: square with 1, 2 or 4 channels, 2 or 4 inputs to half as
// many outputs (a narrow head's rechannel), and one input spread to 2, 4 or 8 outputs (a layer's input
// mixin, an array's rechannel), all with one group. Vectorized over a frame's output channels, as
// grouped_conv is, they would fill a few lanes of a vector and pay a broadcast per multiply-add. Here a
// vector holds kLanes / C whole frames of C outputs: for a square shape, straight from the contiguous input,
// input j reaching every lane of its frame through one in-register shuffle (for a halving shape, a shuffle
// of the two input vectors those frames span); for a spread, each input vector of kLanes frames is shuffled
// into the C output vectors of those frames. Each output is still the bias plus the products in tap order
// and, within a tap, input order, each added with a fused multiply-add: the same roundings as grouped_conv's
// fused path, so the two paths can share a block.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after simd.h and before conv1x1.h, whose grouped_conv calls it.

/// \brief True when frame vectors serve the shape (out, in, groups) here: one with the packed frame-vector
/// copy (packing.h), fused multiply-adds (unfused, the generic path's tap-by-tap sums come first), and at
/// least two frames per vector.
constexpr bool frame_vectors_fit(const int out, const int in, const int groups) {
  return kFusedMultiplyAdd && has_frame_vector_copy(out, in, groups) && kLanes / out >= 2;
}

/// \brief Lane l takes frame From + l / C of a vector of single-channel frames.
template <int C, int From>
struct SpreadFrame {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return From + l / C; }
};

/// \brief Lane l (output l % Out of frame l / Out) takes input J of its frame, from the In floats per frame
/// that follow one another in the frame's input vectors.
template <int Out, int In, int J>
struct FrameInput {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l / Out * In + J; }
};

/// \brief Input J of each frame of the output vector whose frames' inputs are the In / Out vectors at `x`.
template <int Out, int In, int J>
NAM_ALWAYS_INLINE Vec<kLanes> frame_input(const Vec<kLanes>* x) {
  static_assert(In == Out || In == 2 * Out, "a frame vector's inputs fill one or two vectors");
  if constexpr (In == Out)
    return shuffle_lanes<FrameInput<Out, In, J>, kLanes>(x[0]);
  else
    return shuffle_pair<FrameInput<Out, In, J>, kLanes>(x[0], x[1]);
}

/// \brief `acc[v] += W_:J ⊙ (input J of each frame of acc[v])` for J, J + 1, ... < In, where the inputs of
/// acc[v]'s frames are the In / Out vectors from `x + v * In / Out` and `columns` is a tap's frame-vector
/// copy: column j repeated at `columns + j * kFrameVectorFloats`.
template <int Out, int In, int kVectors, int J>
NAM_ALWAYS_INLINE void add_frame_products(Vec<kLanes>* acc, const Vec<kLanes>* x,
                                          const float* NAM_RESTRICT columns) {
  if constexpr (J < In) {
    const Vec<kLanes> column = load<kLanes>(columns + J * kFrameVectorFloats);
    NAM_KERNEL_UNROLL
    for (int v = 0; v < kVectors; ++v)
      acc[v] = fused_multiply_add(column, frame_input<Out, In, J>(x + v * (In / Out)), acc[v]);
    add_frame_products<Out, In, kVectors, J + 1>(acc, x, columns);
  }
}

/// \brief `kVectors * kLanes / Out` consecutive frames: every tap into registers, then one store per vector
/// (plus the addend's matching floats).
template <int Out, int In, bool kAdd, int kVectors>
NAM_ALWAYS_INLINE void frame_vector_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                         const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                         const float* NAM_RESTRICT addend, float* NAM_RESTRICT y) {
  constexpr long kTapFloats = packed_size(Out, In, 1);
  constexpr int kInputVectors = kVectors * In / Out;
  const Vec<kLanes> bias_frames = load<kLanes>(bias + Out); // the repeated copy, after Out biases
  Vec<kLanes> acc[kVectors];
  NAM_KERNEL_UNROLL
  for (int v = 0; v < kVectors; ++v)
    acc[v] = bias_frames;
  for (int k = 0; k < taps; ++k) {
    Vec<kLanes> inputs[kInputVectors];
    NAM_KERNEL_UNROLL
    for (int v = 0; v < kInputVectors; ++v)
      inputs[v] = load<kLanes>(x + k * tap_offset + v * kLanes);
    add_frame_products<Out, In, kVectors, 0>(acc, inputs,
                                             weights + k * kTapFloats + second_copy_offset(Out, In));
  }
  NAM_KERNEL_UNROLL
  for (int v = 0; v < kVectors; ++v)
    store_sum<kAdd>(y, addend, v * kLanes, acc[v]);
}

/// \brief Runs grouped_conv's sum for Out outputs from In = Out or 2 Out inputs over the leading frames that
/// fill whole vectors, given contiguous frames (every stride the channel count); returns how many frames it
/// wrote (a multiple of kLanes / Out), leaving the rest to the per-frame path.
template <int Out, int In, bool kAdd>
NAM_ALWAYS_INLINE int conv_frame_vectors(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                         const int taps, const long tap_offset,
                                         const float* NAM_RESTRICT input, const float* NAM_RESTRICT addend,
                                         float* NAM_RESTRICT output, const int num_frames) {
  // The registers are shared by the accumulators and the inputs of a tap (In / Out vectors per accumulator).
  constexpr int kTileVectors = kAccumulators / (1 + In / Out);
  constexpr int kFramesPerVector = kLanes / Out;
  int t = 0;
  for (; t + kTileVectors * kFramesPerVector <= num_frames; t += kTileVectors * kFramesPerVector)
    frame_vector_tile<Out, In, kAdd, kTileVectors>(weights, bias, taps, tap_offset, input + t * In,
                                                   offset_if<kAdd>(addend, t * Out), output + t * Out);
  for (; t + kFramesPerVector <= num_frames; t += kFramesPerVector)
    frame_vector_tile<Out, In, kAdd, 1>(weights, bias, taps, tap_offset, input + t * In,
                                        offset_if<kAdd>(addend, t * Out), output + t * Out);
  return t;
}

/// \brief `acc[v] += w ⊙ (frames of x spread over output vector v)` for v = V, V + 1, ... < C.
template <int C, int V>
NAM_ALWAYS_INLINE void add_spread_products(Vec<kLanes>* acc, const Vec<kLanes>& w, const Vec<kLanes>& x) {
  if constexpr (V < C) {
    acc[V] = fused_multiply_add(w, shuffle_lanes<SpreadFrame<C, V*(kLanes / C)>, kLanes>(x), acc[V]);
    add_spread_products<C, V + 1>(acc, w, x);
  }
}

/// \brief conv_frame_vectors for one input spread to C outputs (input stride 1, output and addend stride
/// C): kLanes frames at a time, read as one vector per tap and written as C.
template <int C, bool kAdd>
NAM_ALWAYS_INLINE int conv_spread_frames(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                         const int taps, const long tap_offset,
                                         const float* NAM_RESTRICT input, const float* NAM_RESTRICT addend,
                                         float* NAM_RESTRICT output, const int num_frames) {
  constexpr long kTapFloats = packed_size(C, 1, 1);
  const Vec<kLanes> bias_frames = load<kLanes>(bias + C); // the repeated copy, after C biases
  int t = 0;
  for (; t + kLanes <= num_frames; t += kLanes) {
    Vec<kLanes> acc[C];
    NAM_KERNEL_UNROLL
    for (int v = 0; v < C; ++v)
      acc[v] = bias_frames;
    for (int k = 0; k < taps; ++k)
      add_spread_products<C, 0>(acc, load<kLanes>(weights + k * kTapFloats + C),
                                load<kLanes>(input + t + k * tap_offset));
    NAM_KERNEL_UNROLL
    for (int v = 0; v < C; ++v)
      store_sum<kAdd>(output, addend, static_cast<long>(t) * C + v * kLanes, acc[v]);
  }
  return t;
}
