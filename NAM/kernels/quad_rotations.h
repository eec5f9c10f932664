// The convolutions of 8 inputs to 8 outputs at AVX-512 (the 8-channel layers of A1 and A2), where two frames'
// inputs fill one vector. Input pairs (input_pairs.h) load a broadcast pair of inputs for every multiply-add,
// two instructions per multiply-add. Here one load takes two frames' inputs, each 128-bit lane ("quad") four
// of one frame's inputs, and three rotations within the quads (shuffles inside 128-bit lanes, which issue
// beside the multiply-adds) bring each input of a quad to every lane of it in turn: per pair of frames and
// tap, one load, three shuffles and eight multiply-adds that read their weights from memory, where input
// pairs take eight broadcasts and eight multiply-adds (1.23x to 1.35x in a kernel microbenchmark on AMD
// Zen 5).
//
// Two vectors of sums per pair of frames (quad_rotation_output in packing.h): in the quad of a frame's inputs
// 4b to 4b + 3, the first sums outputs 4b to 4b + 3 over them, the second the other four outputs. The second
// with each frame's two quads swapped, added to the first, gives both frames' outputs in order. Each output
// is thus (sum over inputs 0-3 + sum over inputs 4-7) + bias, each sum in tap order and, within a tap, in the
// order the rotations bring the inputs to the output's lane, with fused multiply-adds: the kernel's own
// rounding, the same for every frame and stride.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after input_pairs.h and before conv1x1.h, whose grouped_conv calls it.

/// \brief True when the shape (out, in, groups) runs on rotated quads here: two frames' inputs fill a vector
/// (AVX-512), the packing has the copy, and multiply-adds fuse.
constexpr bool quad_rotations_fit(const int out, const int in, const int groups) {
  return kFusedMultiplyAdd && kLanes == kQuadRotationFloats && has_quad_rotation_copy(out, in, groups);
}

/// \brief Lane 4q + s takes lane 4q + (s + R) % 4: each quad rotated by R, within its 128-bit lane.
template <int R>
struct RotatedQuads {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l / 4 * 4 + (l % 4 + R) % 4; }
};

/// \brief Lane l takes lane l ^ 4: each frame's two quads swapped.
struct SwappedQuads {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l ^ 4; }
};

/// \brief Lane l takes lane l / kQuadRotationChannels of a repeated pair: two frames' values (their
/// conditions), each over its frame's lanes.
struct FrameValues {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l / kQuadRotationChannels; }
};

/// \brief The inputs of the frame at `x` and of the next, `stride` floats on (only the first with kSingle,
/// the other lanes zero), as one vector: one load when the frames are contiguous (kContiguous).
template <bool kContiguous, bool kSingle>
NAM_ALWAYS_INLINE Vec<kLanes> frame_pair_inputs(const float* NAM_RESTRICT x, const long stride) {
  if constexpr (kContiguous && !kSingle)
    return load<kLanes>(x);
  constexpr int kFrameFloats = kLanes / 2; // kQuadRotationChannels where the shape fits
  Vec<kLanes> pair = zeros<kLanes>();
  std::memcpy(&pair, x, kFrameFloats * sizeof(float));
  if constexpr (!kSingle)
    std::memcpy(reinterpret_cast<float*>(&pair) + kFrameFloats, x + stride, kFrameFloats * sizeof(float));
  return pair;
}

/// \brief Adds to a pair of frames' two vectors of sums their products with one tap's weights (the tap's
/// quad-rotation copy at `columns`), `quads` holding the two frames' inputs.
NAM_ALWAYS_INLINE void add_quad_products(Vec<kLanes> (&sums)[2], const float* NAM_RESTRICT columns,
                                         const Vec<kLanes>& quads) {
  [&]<int... R>(std::integer_sequence<int, R...>) {
    (
        [&] {
          const Vec<kLanes> rotated = R == 0 ? quads : shuffle_lanes<RotatedQuads<R>, kLanes>(quads);
          sums[0] = fused_multiply_add(load<kLanes>(columns + (2 * R) * kLanes), rotated, sums[0]);
          sums[1] = fused_multiply_add(load<kLanes>(columns + (2 * R + 1) * kLanes), rotated, sums[1]);
        }(),
        ...);
  }
  (std::make_integer_sequence<int, 4>());
}

/// \brief The sums of kPairs pairs of consecutive frames (inputs `input_stride` apart; one frame with
/// kSingle) over `taps` taps, from zero.
template <int kPairs, bool kContiguous, bool kSingle>
NAM_ALWAYS_INLINE void quad_rotation_sums(const float* NAM_RESTRICT weights, const int taps,
                                          const long tap_offset, const float* NAM_RESTRICT x,
                                          const long input_stride, Vec<kLanes> (&sums)[kPairs][2]) {
  constexpr int C = kQuadRotationChannels;
  constexpr long kTapFloats = packed_size(C, C, 1);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    sums[p][0] = sums[p][1] = zeros<kLanes>();
  for (int k = 0; k < taps; ++k) {
    const float* NAM_RESTRICT columns = weights + k * kTapFloats + quad_rotation_copy_offset(C, C);
    const float* NAM_RESTRICT tap_x = x + k * tap_offset;
    NAM_KERNEL_UNROLL
    for (int p = 0; p < kPairs; ++p)
      add_quad_products(sums[p], columns,
                        frame_pair_inputs<kContiguous, kSingle>(tap_x + 2 * p * input_stride, input_stride));
  }
}

/// \brief Two frames' outputs in order (the first frame's 8, then the second's) from their two vectors of
/// sums: the quads added, then the bias and, with kMixin, the input mixin. With kSingle there is only the
/// first frame, whose outputs are the lower half.
template <bool kMixin, bool kSingle = false>
struct QuadPairOutputs {
  FramePairBias<kQuadRotationChannels, RepeatedRows<kQuadRotationChannels>, kMixin>
      epilogue; ///< over each frame's lanes

  /// \brief The frames' outputs from their sums; `condition` points at the first frame's (with kMixin).
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes> (&sums)[2], const float* condition) const {
    Vec<kLanes> conditions = zeros<kLanes>();
    if constexpr (kMixin)
      conditions = kSingle ? broadcast<kLanes>(condition[0])
                           : shuffle_lanes<FrameValues, kLanes>(load_repeated_pair<kLanes>(condition));
    return epilogue.add_to(sums[0] + shuffle_lanes<SwappedQuads, kLanes>(sums[1]), conditions);
  }
};

/// \brief kPairs pairs of consecutive frames (one frame with kSingle; inputs and outputs `input_stride` and
/// `output_stride` apart). With kMixin, `mixin` adds the input mixin of these frames.
template <int kPairs, bool kContiguous, bool kSingle, bool kAdd, bool kMixin>
NAM_ALWAYS_INLINE void quad_rotation_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                          const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                          const long input_stride, const float* NAM_RESTRICT addend,
                                          const long addend_stride, const OneChannelMixin& mixin,
                                          float* NAM_RESTRICT y, const long output_stride) {
  Vec<kLanes> sums[kPairs][2];
  quad_rotation_sums<kPairs, kContiguous, kSingle>(weights, taps, tap_offset, x, input_stride, sums);
  const QuadPairOutputs<kMixin, kSingle> pair_outputs{{bias, mixin}};
  // Where both frames' columns are adjacent, as in a layer's own matrices, the pair is one whole vector in
  // memory: one store (and one addend load).
  constexpr int C = kQuadRotationChannels;
  const bool adjacent_pairs = output_stride == C && (!kAdd || addend_stride == C);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p) {
    const Vec<kLanes> outputs = pair_outputs(sums[p], offset_if<kMixin>(mixin.condition, 2 * p));
    const long first = 2 * p;
    if (adjacent_pairs && !kSingle) {
      store_sum<kAdd>(y + first * output_stride, offset_if<kAdd>(addend, first * addend_stride), 0, outputs);
    } else {
      store_sum<kAdd>(y + first * output_stride, offset_if<kAdd>(addend, first * addend_stride), 0,
                      lanes<0, C>(outputs));
      if constexpr (!kSingle)
        store_sum<kAdd>(y + (first + 1) * output_stride, offset_if<kAdd>(addend, (first + 1) * addend_stride),
                        0, lanes<C, C>(outputs));
    }
  }
}

/// \brief grouped_conv's sum for a shape with quad_rotations_fit (plus `mixin` with kMixin), inputs
/// contiguous or not (kContiguous): tiles of frame pairs, then pairs, then a last single frame.
template <bool kSeveralTaps, bool kContiguous, bool kAdd, bool kMixin>
NAM_ALWAYS_INLINE void
quad_rotation_frames(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
                     const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
                     const float* NAM_RESTRICT addend, const long addend_stride, const OneChannelMixin& mixin,
                     float* NAM_RESTRICT output, const long output_stride, const int num_frames) {
  // A tile's sums take kAccumulators registers with several taps; a single tap keeps half as many.
  constexpr int kTilePairs = kSeveralTaps ? kAccumulators / 2 : kAccumulators / 4;
  const auto run = [&]<int kPairs, bool kSingle>(const int t) {
    quad_rotation_tile<kPairs, kContiguous, kSingle, kAdd, kMixin>(
        weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
        offset_if<kAdd>(addend, t * addend_stride), addend_stride, mixin_from<kMixin>(mixin, t),
        output + t * output_stride, output_stride);
  };
  int t = 0;
  for (; t + 2 * kTilePairs <= num_frames; t += 2 * kTilePairs)
    run.template operator()<kTilePairs, false>(t);
  for (; t + 2 <= num_frames; t += 2)
    run.template operator()<1, false>(t);
  if (t < num_frames)
    run.template operator()<1, true>(t);
}

/// \brief grouped_conv's sum for a shape with quad_rotations_fit: quad_rotation_frames, with one load per
/// pair of frames where the inputs are contiguous.
template <bool kSeveralTaps, bool kAdd, bool kMixin>
NAM_ALWAYS_INLINE void
conv_quad_rotations(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
                    const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
                    const float* NAM_RESTRICT addend, const long addend_stride, const OneChannelMixin& mixin,
                    float* NAM_RESTRICT output, const long output_stride, const int num_frames) {
  if (input_stride == kQuadRotationChannels)
    quad_rotation_frames<kSeveralTaps, true, kAdd, kMixin>(weights, bias, taps, tap_offset, input,
                                                           input_stride, addend, addend_stride, mixin, output,
                                                           output_stride, num_frames);
  else
    quad_rotation_frames<kSeveralTaps, false, kAdd, kMixin>(weights, bias, taps, tap_offset, input,
                                                            input_stride, addend, addend_stride, mixin,
                                                            output, output_stride, num_frames);
}
