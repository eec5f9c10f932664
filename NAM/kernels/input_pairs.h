// The convolutions whose outputs, padded to a power of two, fill half a vector (5 to 8 at AVX-512, 3 or 4 at
// AVX2) from an even number of inputs, in one group: for instance the 6-channel layers of A1 at AVX-512 (8
// inputs to 8 outputs there rotate quads of inputs instead, quad_rotations.h). Vectorized over its outputs,
// as grouped_conv is, such a shape fills half of every multiply-add. Here a vector holds each output twice:
// one lane sums output o's products with the inputs of parity h, the lane next to it those with the other
// parity (input_pair_lane in packing.h), so that one multiply-add takes two inputs, which arrive together as
// one 64-bit broadcast load (no shuffle). After the last tap the two halves of each output are added, then
// the bias. Each output is thus (sum over even inputs + sum over odd inputs) + bias, each sum in tap order
// and, within a tap, input order, with fused multiply-adds: the kernel's own rounding, the same for every
// frame and stride. The layout puts the halves that meet in one addition in the same 128-bit lane of two
// vectors (a frame's two, or two frames'), so that the shuffles that line them up stay within 128-bit lanes:
// on AMD Zen 5 such shuffles issue beside the multiply-adds, while those across lanes take their issue slots.
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

/// \brief Lane o takes the half of output o (kRows packed rows) that sums the inputs of parity H, from one
/// vector of a frame's sums.
template <int H, int kRows>
struct ParityHalf {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return input_pair_lane(kRows, l, H); }
};

/// \brief Two vectors of N lanes, read as one of 2N: lane 4j + m takes lane 4j + 2 (m % 2) + H of the first
/// for m < 2, of the second for m >= 2, which are the halves of parity H of the outputs in 128-bit lane j of
/// either (input_pair_lane). One shuffle within 128-bit lanes.
template <int H, int N>
struct GroupParityHalves {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return (l % 4 < 2 ? 0 : N) + l / 4 * 4 + l % 2 * 2 + H; }
};

/// \brief The halves of every output in `first` and `second` added (GroupParityHalves): a frame's two vectors
/// of sums give its outputs in order; two frames' one vector each give FramePairLanes' order.
NAM_ALWAYS_INLINE Vec<kLanes> add_group_halves(const Vec<kLanes>& first, const Vec<kLanes>& second) {
  return shuffle_pair<GroupParityHalves<0, kLanes>, kLanes>(first, second) +
         shuffle_pair<GroupParityHalves<1, kLanes>, kLanes>(first, second);
}

/// \brief Where add_group_halves of two frames' sums (kRows packed rows each) puts their outputs: lane
/// 4j + m holds output `output(4j + m)` of the first frame for m < 2, of the second for m >= 2.
template <int kRows>
struct FramePairLanes {
  /// \brief The output in lane `l`.
  static constexpr int output(const int l) { return input_pair_output(kRows, l / 4 * 4 + l % 2 * 2); }
  /// \brief The lane of output o (of packed rows) of frame f.
  static constexpr int lane_of(const int f, const int o) {
    const int pair_lane = input_pair_lane(kRows, o, 0);
    return pair_lane / 4 * 4 + pair_lane % 4 / 2 + 2 * f;
  }
};

/// \brief Lane l takes lane output(l) of a vector of kRows: per-output values (a bias) in FramePairLanes'
/// order.
template <int kRows>
struct InFramePairLanes {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return FramePairLanes<kRows>::output(l); }
};

/// \brief Lane 4j + m takes lane 4j + m / 2 of a repeated pair: two frames' values (their conditions) in
/// FramePairLanes' order, with a shuffle within 128-bit lanes.
struct FramePairValues {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l / 4 * 4 + l % 4 / 2; }
};

/// \brief Lane l takes frame l / kRows's output l % kRows from FramePairLanes' order: the first frame's
/// outputs, then the second's. The one shuffle across 128-bit lanes of a pair of frames.
template <int kRows>
struct FramesInOrder {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return FramePairLanes<kRows>::lane_of(l / kRows, l % kRows); }
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

/// \brief A frame's outputs in order, each output's two halves added, from its kVectors vectors of sums
/// (laid out as input_pair_lane says).
template <int kVectors>
NAM_ALWAYS_INLINE Vec<kVectors * kLanes / 2> add_parity_halves(const Vec<kLanes>* sums) {
  constexpr int kRows = kVectors * kLanes / 2;
  if constexpr (kVectors == 1)
    return shuffle_lanes<ParityHalf<0, kRows>, kRows>(sums[0]) +
           shuffle_lanes<ParityHalf<1, kRows>, kRows>(sums[0]);
  else
    return add_group_halves(sums[0], sums[1]);
}

/// \brief The sums of `kFrames` consecutive frames (inputs `input_stride` apart) over `taps` taps: lane
/// input_pair_lane(rows, o, h) of acc[f] (vector after vector) adds output o's products with the inputs of
/// parity h to zero, in tap order and, within a tap, input order, each with a fused multiply-add.
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

/// \brief The bias and, with kMixin, the input mixin of two frames' outputs, each vector of kRows packed
/// values laid out over both frames' lanes as RowMap takes them: the epilogue two frames share, whatever
/// order their lanes hold (FramePairOutputs here, QuadPairOutputs in quad_rotations.h).
template <int kRows, class RowMap, bool kMixin>
struct FramePairBias {
  Vec<kLanes> bias;          ///< the bias for both frames
  Vec<kLanes> mixin_weights; ///< the mixin's weights likewise (zeros without kMixin)
  Vec<kLanes> mixin_bias;    ///< the mixin's bias likewise (zeros without kMixin)

  /// \brief From a packed bias and, with kMixin, `mixin`'s packed weights and bias.
  NAM_ALWAYS_INLINE FramePairBias(const float* NAM_RESTRICT packed_bias, const OneChannelMixin& mixin) :
      bias(spread(packed_bias)),
      mixin_weights(kMixin ? spread(mixin.weights) : zeros<kLanes>()),
      mixin_bias(kMixin ? spread(mixin.bias) : zeros<kLanes>()) {}

  /// \brief `sums` plus the bias, then (with kMixin) plus the mixin of `conditions` (each frame's condition
  /// over its lanes).
  NAM_ALWAYS_INLINE Vec<kLanes> add_to(const Vec<kLanes>& sums, const Vec<kLanes>& conditions) const {
    Vec<kLanes> outputs = sums + bias;
    if constexpr (kMixin)
      outputs += fused_multiply_add(mixin_weights, conditions, mixin_bias);
    return outputs;
  }

private:
  static NAM_ALWAYS_INLINE Vec<kLanes> spread(const float* NAM_RESTRICT packed) {
    return shuffle_lanes<RowMap, kLanes>(load<kRows>(packed));
  }
};

/// \brief The outputs of two frames whose sums fill half a vector each (kRows lanes of outputs, padding
/// included): their halves added, then the bias and, with kMixin, the input mixin, all in FramePairLanes'
/// order, then put in order (one vector, the first frame's outputs, then the second's).
template <int kRows, bool kMixin>
struct FramePairOutputs {
  FramePairBias<kRows, InFramePairLanes<kRows>, kMixin> epilogue; ///< in FramePairLanes' order

  /// \brief Two frames' outputs from their sums; `condition` points at the first frame's (with kMixin).
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes>& first, const Vec<kLanes>& second,
                                           const float* condition) const {
    // The two frames' conditions, each in its frame's lanes.
    Vec<kLanes> conditions = zeros<kLanes>();
    if constexpr (kMixin)
      conditions = shuffle_lanes<FramePairValues, kLanes>(load_repeated_pair<kLanes>(condition));
    return shuffle_lanes<FramesInOrder<kRows>, kLanes>(
        epilogue.add_to(add_group_halves(first, second), conditions));
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
    const FramePairOutputs<kRows, kMixin> pair_outputs{{bias, mixin}};
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
