// The convolutions whose outputs, padded to a power of two, fill half a vector (5 to 8 at AVX-512, 3 or 4 at
// AVX2) from an even number of inputs, in one group: the 6- and 8-channel layers of A1 and A2 at AVX-512.
// Vectorized over its outputs, as grouped_conv is, such a shape fills half of every multiply-add. Here a
// vector holds each output twice: lane 2o + h sums output o's products with the inputs of parity h, so that
// one multiply-add takes two inputs, which arrive together as one 64-bit broadcast load (no shuffle). After
// the last tap the two halves of each output are added, then the bias. Each output is thus (sum over even
// inputs + sum over odd inputs) + bias, each sum in tap order and, within a tap, input order, with fused
// multiply-adds: the kernel's own rounding, the same for every frame and stride.
//
// Convolutions whose outputs fill a whole vector (9 to 16 at AVX-512, 5 to 8 at AVX2: the 12- and
// 16-channel layers of A1), given several taps or at least 8 inputs, run alike over two vectors per frame:
// each broadcast pair then feeds two multiply-adds, where the usual scheme loads a broadcast per multiply-add
// (a1-standard's 16-channel dilated convolution 1.3x, its 1x1 1.3x, at AVX-512 on AMD Zen 5).
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after simd.h and before conv1x1.h, whose grouped_conv calls it.

/// \brief Vectors of a frame's sums when the shape (out, in, groups) runs on input pairs here, else 0: one
/// when its padded outputs fill half a vector, two when they fill a whole one, given several taps or at
/// least 8 inputs (with fewer products per frame, the halves' final addition costs more than the loads
/// saved). Only shapes with the packed input-pair copy (packing.h), with fused multiply-adds (unfused, the
/// generic path's order of additions comes first).
constexpr int input_pair_vectors(const int out, const int in, const int groups, const bool several_taps) {
  if (!kFusedMultiplyAdd || !has_input_pair_copy(out, in, groups))
    return 0;
  const int lanes = 2 * packed_group_rows(out);
  if (lanes == kLanes)
    return 1;
  return lanes == 2 * kLanes && (several_taps || in >= 8) ? 2 : 0;
}

/// \brief Lane l takes lane 2 l + H: the half of every output that sums the inputs of parity H.
template <int H>
struct ParityHalf {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return 2 * l + H; }
};

/// \brief Lane l takes lane l / kRows: the two values of a repeated pair, each over kRows lanes.
template <int kRows>
struct SpreadPair {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l / kRows; }
};

/// \brief A WaveNet layer's input mixin from one condition channel, added to the convolution's outputs in
/// its store (conv1d_tap_mixin): output o of frame t gets `weights[o] * condition[t] + bias[o]` added (one
/// multiply-add, fused where the kernels fuse), the rounding of a Conv1x1 kernel of shape (out, 1, 1) that
/// takes the convolution's output as its addend.
struct OneChannelMixin {
  const float* weights = nullptr;   ///< the (out, 1, 1) Conv1x1's packed weight column
  const float* bias = nullptr;      ///< its packed bias
  const float* condition = nullptr; ///< one float per frame
};

/// \brief `mixin` from frame `frame` on (its condition moved) when kMixin; else `mixin` as it is.
template <bool kMixin>
NAM_ALWAYS_INLINE OneChannelMixin mixin_from(const OneChannelMixin& mixin, const int frame) {
  return OneChannelMixin{mixin.weights, mixin.bias, offset_if<kMixin>(mixin.condition, frame)};
}

/// \brief Each output's two halves added, from kVectors vectors of sums (lane 2o + h of the sums, vector
/// after vector, holding output o's sum over the inputs of parity h): a frame's, or one vector each of two
/// frames whose outputs fill half a vector (the result then holds the first frame's, then the second's).
template <int kVectors>
NAM_ALWAYS_INLINE Vec<kVectors * kLanes / 2> add_parity_halves(const Vec<kLanes>* sums) {
  constexpr int kRows = kVectors * kLanes / 2;
  if constexpr (kVectors == 1)
    return shuffle_lanes<ParityHalf<0>, kRows>(sums[0]) + shuffle_lanes<ParityHalf<1>, kRows>(sums[0]);
  else
    return shuffle_pair<ParityHalf<0>, kLanes>(sums[0], sums[1]) +
           shuffle_pair<ParityHalf<1>, kLanes>(sums[0], sums[1]);
}

/// \brief The sums of `kFrames` consecutive frames (inputs `input_stride` apart) over `taps` taps: lane
/// 2o + h of acc[f] (vector after vector) adds output o's products with the inputs of parity h to zero, in
/// tap order and, within a tap, input order, each with a fused multiply-add.
template <int OutCh, int InCh, int kVectors, int kFrames>
NAM_ALWAYS_INLINE void input_pair_sums(const float* NAM_RESTRICT weights, const int taps,
                                       const long tap_offset, const float* NAM_RESTRICT x,
                                       const long input_stride, Vec<kLanes> (&acc)[kFrames][kVectors]) {
  constexpr long kTapFloats = packed_size(OutCh, InCh, 1);
  constexpr long kCopyOffset = second_copy_offset(OutCh, InCh);
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f) {
    NAM_KERNEL_UNROLL
    for (int v = 0; v < kVectors; ++v)
      acc[f][v] = zeros<kLanes>();
  }
  for (int k = 0; k < taps; ++k) {
    const float* NAM_RESTRICT tap_columns = weights + k * kTapFloats + kCopyOffset;
    // The weight vectors of kStep pairs, then every frame's products with them: the whole tap's at once
    // when a frame's sums are one vector (so that each frame's inputs are one pointer), else pair by pair,
    // so that the live weights fit the registers beside twice the accumulators.
    constexpr int kStep = kVectors == 1 ? InCh / 2 : 1;
    NAM_KERNEL_UNROLL
    for (int first = 0; first < InCh / 2; first += kStep) {
      Vec<kLanes> columns[kStep][kVectors];
      NAM_KERNEL_UNROLL
      for (int q = 0; q < kStep; ++q) {
        NAM_KERNEL_UNROLL
        for (int v = 0; v < kVectors; ++v)
          columns[q][v] = load<kLanes>(tap_columns + ((first + q) * kVectors + v) * kLanes);
      }
      const float* NAM_RESTRICT frame_x = x + k * tap_offset + 2 * first;
      NAM_KERNEL_UNROLL
      for (int f = 0; f < kFrames; ++f, frame_x += input_stride) {
        NAM_KERNEL_UNROLL
        for (int q = 0; q < kStep; ++q) {
          const Vec<kLanes> pair = load_repeated_pair<kLanes>(frame_x + 2 * q);
          NAM_KERNEL_UNROLL
          for (int v = 0; v < kVectors; ++v)
            acc[f][v] = fused_multiply_add(columns[q][v], pair, acc[f][v]);
        }
      }
    }
  }
}

/// \brief The outputs of two frames whose sums fill half a vector each (kRows lanes of outputs, padding
/// included): their halves added (one vector, the first frame's outputs, then the second's), then the bias
/// and, with kMixin, the input mixin; the epilogue two frames share.
template <int kRows, bool kMixin>
struct FramePairOutputs {
  Vec<kLanes> bias_twice;          ///< the bias over each frame's lanes
  Vec<kLanes> mixin_weights_twice; ///< the mixin's weights likewise (zeros without kMixin)
  Vec<kLanes> mixin_bias_twice;    ///< the mixin's bias likewise (zeros without kMixin)

  /// \brief From a packed bias and, with kMixin, `mixin`'s packed weights and bias.
  NAM_ALWAYS_INLINE FramePairOutputs(const float* NAM_RESTRICT bias, const OneChannelMixin& mixin) :
      bias_twice(twice(bias)),
      mixin_weights_twice(kMixin ? twice(mixin.weights) : zeros<kLanes>()),
      mixin_bias_twice(kMixin ? twice(mixin.bias) : zeros<kLanes>()) {}

  /// \brief Two frames' outputs from their sums; `condition` points at the first frame's (with kMixin).
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes>& first, const Vec<kLanes>& second,
                                           const float* condition) const {
    const Vec<kLanes> frame_pair[2] = {first, second};
    Vec<kLanes> outputs = add_parity_halves<2>(frame_pair) + bias_twice;
    if constexpr (kMixin) {
      // The two frames' conditions, each over its frame's lanes.
      const Vec<kLanes> conditions =
          shuffle_lanes<SpreadPair<kRows>, kLanes>(load_repeated_pair<kLanes>(condition));
      outputs += fused_multiply_add(mixin_weights_twice, conditions, mixin_bias_twice);
    }
    return outputs;
  }

private:
  static NAM_ALWAYS_INLINE Vec<kLanes> twice(const float* NAM_RESTRICT packed) {
    return shuffle_lanes<RepeatedRows<kRows>, kLanes>(load<kRows>(packed));
  }
};

/// \brief `kFrames` consecutive frames (inputs and outputs `input_stride` and `output_stride` apart).
/// With kMixin, `mixin` adds the input mixin of these frames (its condition from the tile's first frame).
template <int OutCh, int InCh, bool kAdd, bool kMixin, int kVectors, int kFrames>
NAM_ALWAYS_INLINE void input_pair_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                       const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                       const long input_stride, const float* NAM_RESTRICT addend,
                                       const long addend_stride, const OneChannelMixin& mixin,
                                       float* NAM_RESTRICT y, const long output_stride) {
  Vec<kLanes> acc[kFrames][kVectors];
  input_pair_sums<OutCh, InCh, kVectors, kFrames>(weights, taps, tap_offset, x, input_stride, acc);
  constexpr int kRows = kVectors * kLanes / 2; // OutCh and the padding outputs
  if constexpr (kVectors == 1 && kFrames % 2 == 0) {
    // Half-vector sums: two frames share the shuffles that add their halves, then the bias (and the mixin),
    // twice over.
    const FramePairOutputs<kRows, kMixin> pair_outputs(bias, mixin);
    // Where the outputs fill their rows (no padding) and both frames' columns are adjacent, as in a layer's
    // own matrices, the pair is one whole vector in memory: one store (and one addend load) instead of a
    // half and a shuffled half each.
    constexpr bool kUnpadded = kRows == OutCh;
    const bool adjacent_pairs = kUnpadded && output_stride == OutCh && (!kAdd || addend_stride == OutCh);
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; f += 2) {
      const Vec<kLanes> outputs =
          pair_outputs(acc[f][0], acc[f + 1][0], offset_if<kMixin>(mixin.condition, f));
      if (adjacent_pairs) {
        store_sum<kAdd>(y + f * output_stride, offset_if<kAdd>(addend, f * addend_stride), 0, outputs);
      } else {
        store_lanes<kAdd, 0, OutCh>(y + f * output_stride, offset_if<kAdd>(addend, f * addend_stride),
                                    lanes<0, kRows>(outputs));
        store_lanes<kAdd, 0, OutCh>(y + (f + 1) * output_stride,
                                    offset_if<kAdd>(addend, (f + 1) * addend_stride),
                                    lanes<kRows, kRows>(outputs));
      }
    }
  } else {
    const Vec<kRows> bias_vector = load<kRows>(bias);
    Vec<kRows> mixin_weights = zeros<kRows>(), mixin_bias = zeros<kRows>();
    if constexpr (kMixin) {
      mixin_weights = load<kRows>(mixin.weights);
      mixin_bias = load<kRows>(mixin.bias);
    }
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; ++f) {
      Vec<kRows> outputs = add_parity_halves<kVectors>(acc[f]) + bias_vector;
      if constexpr (kMixin)
        outputs += fused_multiply_add(mixin_weights, broadcast<kRows>(mixin.condition[f]), mixin_bias);
      store_lanes<kAdd, 0, OutCh>(y + f * output_stride, offset_if<kAdd>(addend, f * addend_stride), outputs);
    }
  }
}

/// \brief grouped_conv's sum for a shape with input_pair_vectors (plus `mixin` with kMixin): tiles of frames,
/// then single frames.
template <int OutCh, int InCh, bool kSeveralTaps, bool kAdd, bool kMixin, int kVectors>
NAM_ALWAYS_INLINE void
conv_input_pairs(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
                 const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
                 const float* NAM_RESTRICT addend, const long addend_stride, const OneChannelMixin& mixin,
                 float* NAM_RESTRICT output, const long output_stride, const int num_frames) {
  // With several taps the sums of a tile take kAccumulators registers; the rest hold weight vectors and the
  // broadcast inputs.
  // A single tap keeps tiles of half as many frames: at AVX-512 the larger tile ran conv1d_tap 8x8 at six
  // taps 1.09x faster but conv1x1 8x8 0.88x as fast (measured before two frames shared their shuffles;
  // two-vector sums get the same tile either way).
  constexpr int kTile = kSeveralTaps ? kAccumulators / kVectors : kAccumulators / 2;
  int t = 0;
  for (; t + kTile <= num_frames; t += kTile)
    input_pair_tile<OutCh, InCh, kAdd, kMixin, kVectors, kTile>(
        weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
        offset_if<kAdd>(addend, t * addend_stride), addend_stride, mixin_from<kMixin>(mixin, t),
        output + t * output_stride, output_stride);
  for (; t < num_frames; ++t)
    input_pair_tile<OutCh, InCh, kAdd, kMixin, kVectors, 1>(
        weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
        offset_if<kAdd>(addend, t * addend_stride), addend_stride, mixin_from<kMixin>(mixin, t),
        output + t * output_stride, output_stride);
}
