// The templated kernel behind Conv1x1 and Conv1D: out = b + sum over taps of W_k·x_k for a block of frames,
// where each W_k is grouped (block-diagonal). NAM models use 1 to 32 channels and 64-frame blocks, where a
// generic GEMM spends its time on dispatch, runtime loop bounds and the zeros off the diagonal blocks. Here
// every bound but the tap count is a compile-time constant, only the diagonal blocks are stored and
// multiplied, and a tile of output columns stays in registers from the first tap to a single store.
//
// No include guard on purpose: kernels/registry.inc includes this file once inside each instruction-set
// namespace (after simd.h, which provides Vec), and it includes nothing itself, so every instruction it
// produces obeys its region's target.

/// \brief Lanes per accumulator vector for a group whose packed column has `rows` floats: the widest
/// power of two up to the target's width that divides it.
constexpr int chunk_width(const int rows) {
  int width = kLanes;
  while (rows % width != 0)
    width /= 2;
  return width;
}

/// \brief The compile-time layout of a shape. Outputs are computed in blocks that share their loads and
/// are stored together: one group at a time, or, in the shared layout of narrow groups (packing.h), one
/// vector spanning several groups at a time.
template <int OutCh, int InCh, int Groups>
struct Layout {
  static_assert(OutCh > 0 && InCh > 0 && Groups > 0, "kernel shapes are positive");
  static_assert(OutCh % Groups == 0, "a kernel table line has groups that do not divide out");
  static_assert(InCh % Groups == 0, "a kernel table line has groups that do not divide in");
  static constexpr int kOutPerGroup = OutCh / Groups;
  static constexpr int kInPerGroup = InCh / Groups;
  static constexpr int kSharedLanes = shared_group_lanes(OutCh, InCh, Groups);
  static constexpr bool kShared = kSharedLanes > 0;

  static constexpr int kBlocks = kShared ? OutCh / kSharedLanes : Groups;
  static constexpr int kBlockOutputs = kShared ? kSharedLanes : kOutPerGroup;
  /// Packed floats per input step of a block (a padded weight column, or a shared vector); also the
  /// stride of the packed bias.
  static constexpr int kBlockRows = kShared ? kSharedLanes : packed_group_rows(kOutPerGroup);
  /// Input channels a block reads (its groups' inputs, which are consecutive).
  static constexpr int kBlockInputs = kShared ? kSharedLanes / kOutPerGroup * kInPerGroup : kInPerGroup;
  static constexpr int kWidth = kShared ? kSharedLanes : chunk_width(kBlockRows);
  static constexpr int kChunks = (kBlockOutputs + kWidth - 1) / kWidth; // vectors holding real outputs
  static constexpr int kTapFloats = static_cast<int>(packed_size(OutCh, InCh, Groups)); // floats per tap

  /// Frames per tile: enough accumulators to reuse each loaded weight vector `frames` times, few enough to
  /// stay in registers beside the weights. Several unfused taps need a second set (the running sum).
  static constexpr int tile_frames(const bool several_taps) {
    const int frames = kAccumulators / (kChunks * (several_taps && !kFusedMultiplyAdd ? 2 : 1));
    return frames < 1 ? 1 : (frames > 8 ? 8 : frames);
  }
};

/// \brief A tile of accumulators: `kFrames` frames x a block's `kChunks` vectors.
template <class L, int kFrames>
struct Tile {
  Vec<L::kWidth> v[kFrames][L::kChunks];
};

/// \brief Lane l takes input J of lane l's group from a shared vector's `span` of inputs.
template <int kOutPerGroup, int kInPerGroup, int J>
struct GroupInput {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return (l / kOutPerGroup) * kInPerGroup + J; }
};

/// \brief `acc += sum over input steps J.. of w[J] * (input J of each lane's group)`.
template <class L, int J>
NAM_ALWAYS_INLINE void add_shared_inputs(Vec<L::kWidth>& acc, const Vec<L::kWidth>* w,
                                         const Vec<L::kBlockInputs>& span) {
  if constexpr (J < L::kInPerGroup) {
    acc = multiply_add<kFusedMultiplyAdd>(
        w[J], shuffle_lanes<GroupInput<L::kOutPerGroup, L::kInPerGroup, J>, L::kWidth>(span), acc);
    add_shared_inputs<L, J + 1>(acc, w, span);
  }
}

/// \brief Every frame of `tile` set to the same chunks (zeros, or a block's bias).
template <class L, int kFrames>
NAM_ALWAYS_INLINE void fill_tile(Tile<L, kFrames>& tile, const Vec<L::kWidth>* chunks) {
  NAM_KERNEL_UNROLL
  for (int f = 0; f < kFrames; ++f) {
    NAM_KERNEL_UNROLL
    for (int c = 0; c < L::kChunks; ++c)
      tile.v[f][c] = chunks[c];
  }
}

/// \brief `tile += W·x` for one block and one tap over a tile of frames, added in input order.
///
/// A group block broadcasts each input value and multiplies it with one contiguous packed weight column. A
/// shared block loads each frame's inputs for its groups once and rearranges them in registers for every
/// input step, so that narrow groups still fill whole vectors.
template <class L, int kFrames>
NAM_ALWAYS_INLINE void add_block_product(Tile<L, kFrames>& tile, const float* NAM_RESTRICT weights,
                                         const float* NAM_RESTRICT x, const long input_stride) {
  if constexpr (L::kShared) {
    Vec<L::kWidth> w[L::kInPerGroup];
    NAM_KERNEL_UNROLL
    for (int j = 0; j < L::kInPerGroup; ++j)
      w[j] = load<L::kWidth>(weights + j * L::kBlockRows);
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; ++f)
      add_shared_inputs<L, 0>(tile.v[f][0], w, load<L::kBlockInputs>(x + f * input_stride));
  } else {
    for (int j = 0; j < L::kInPerGroup; ++j) {
      Vec<L::kWidth> w[L::kChunks];
      NAM_KERNEL_UNROLL
      for (int c = 0; c < L::kChunks; ++c)
        w[c] = load<L::kWidth>(weights + j * L::kBlockRows + c * L::kWidth);
      NAM_KERNEL_UNROLL
      for (int f = 0; f < kFrames; ++f) {
        const float value = x[f * input_stride + j];
        NAM_KERNEL_UNROLL
        for (int c = 0; c < L::kChunks; ++c)
          tile.v[f][c] = multiply_add<kFusedMultiplyAdd>(w[c], broadcast<L::kWidth>(value), tile.v[f][c]);
      }
    }
  }
}

/// \brief Stores chunks [Chunk, kChunks) of one frame's accumulators for a block (plus the addend).
template <class L, bool kAdd, int Chunk>
NAM_ALWAYS_INLINE void store_block(float* NAM_RESTRICT y, const float* NAM_RESTRICT addend,
                                   const Vec<L::kWidth>* acc) {
  if constexpr (Chunk < L::kChunks) {
    constexpr int kLeft = L::kBlockOutputs - Chunk * L::kWidth;
    constexpr int kOffset = Chunk * L::kWidth;
    store_lanes<kAdd, 0, (kLeft < L::kWidth ? kLeft : L::kWidth)>(
        y + kOffset, offset_if<kAdd>(addend, kOffset), acc[Chunk]);
    store_block<L, kAdd, Chunk + 1>(y, addend, acc);
  }
}

/// \brief `kFrames` consecutive frames of grouped_conv (plus `mixin`, from the tile's first frame, with
/// kMixin: one group only, whose packed rows are the mixin's).
template <int OutCh, int InCh, int Groups, bool kSeveralTaps, bool kAdd, bool kMixin, int kFrames>
NAM_ALWAYS_INLINE void conv_tile(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                 const int taps, const long tap_offset, const float* NAM_RESTRICT x,
                                 const long input_stride, const float* NAM_RESTRICT addend,
                                 const long addend_stride, const OneChannelMixin& mixin,
                                 float* NAM_RESTRICT y, const long output_stride) {
  using L = Layout<OutCh, InCh, Groups>;
  static_assert(!kMixin || Groups == 1, "a mixin is added to one group's outputs");
  for (int b = 0; b < L::kBlocks; ++b) {
    const float* NAM_RESTRICT block_weights = weights + b * L::kInPerGroup * L::kBlockRows;
    const float* NAM_RESTRICT block_x = x + b * L::kBlockInputs;
    Vec<L::kWidth> bias_chunks[L::kChunks], zero_chunks[L::kChunks];
    NAM_KERNEL_UNROLL
    for (int c = 0; c < L::kChunks; ++c) {
      bias_chunks[c] = load<L::kWidth>(bias + b * L::kBlockRows + c * L::kWidth);
      zero_chunks[c] = zeros<L::kWidth>();
    }
    Tile<L, kFrames> sum;
    if constexpr (kFusedMultiplyAdd) {
      // Fused, the order of rounding is the kernel's own: start from the bias, add every tap in place.
      fill_tile<L, kFrames>(sum, bias_chunks);
      for (int k = 0; k < taps; ++k)
        add_block_product<L, kFrames>(sum, block_weights + k * L::kTapFloats, block_x + k * tap_offset,
                                      input_stride);
    } else {
      // Each tap is summed on its own, then added to the bias and the earlier taps: the generic path's
      // rounding, tap by tap.
      fill_tile<L, kFrames>(sum, zero_chunks);
      add_block_product<L, kFrames>(sum, block_weights, block_x, input_stride);
      NAM_KERNEL_UNROLL
      for (int f = 0; f < kFrames; ++f) {
        NAM_KERNEL_UNROLL
        for (int c = 0; c < L::kChunks; ++c)
          sum.v[f][c] += bias_chunks[c];
      }
      for (int k = 1; k < taps; ++k) {
        Tile<L, kFrames> part;
        fill_tile<L, kFrames>(part, zero_chunks);
        add_block_product<L, kFrames>(part, block_weights + k * L::kTapFloats, block_x + k * tap_offset,
                                      input_stride);
        NAM_KERNEL_UNROLL
        for (int f = 0; f < kFrames; ++f) {
          NAM_KERNEL_UNROLL
          for (int c = 0; c < L::kChunks; ++c)
            sum.v[f][c] += part.v[f][c];
        }
      }
    }
    if constexpr (kMixin) {
      Vec<L::kWidth> mixin_weights[L::kChunks], mixin_bias[L::kChunks];
      NAM_KERNEL_UNROLL
      for (int c = 0; c < L::kChunks; ++c) {
        mixin_weights[c] = load<L::kWidth>(mixin.weights + c * L::kWidth);
        mixin_bias[c] = load<L::kWidth>(mixin.bias + c * L::kWidth);
      }
      NAM_KERNEL_UNROLL
      for (int f = 0; f < kFrames; ++f) {
        NAM_KERNEL_UNROLL
        for (int c = 0; c < L::kChunks; ++c)
          sum.v[f][c] += multiply_add<kFusedMultiplyAdd>(
              mixin_weights[c], broadcast<L::kWidth>(mixin.condition[f]), mixin_bias[c]);
      }
    }
    NAM_KERNEL_UNROLL
    for (int f = 0; f < kFrames; ++f)
      store_block<L, kAdd, 0>(y + f * output_stride + b * L::kBlockOutputs,
                              offset_if<kAdd>(addend, f * addend_stride + b * L::kBlockOutputs), sum.v[f]);
  }
}

/// \brief grouped_conv with the addend and mixin choices made: whole tiles, then single frames.
template <int OutCh, int InCh, int Groups, bool kSeveralTaps, bool kAdd, bool kMixin>
NAM_ALWAYS_INLINE void
conv_frames(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias, const int taps,
            const long tap_offset, const float* NAM_RESTRICT input, const long input_stride,
            const float* NAM_RESTRICT addend, const long addend_stride, const OneChannelMixin& mixin,
            float* NAM_RESTRICT output, const long output_stride, const int num_frames) {
  constexpr int kTile = Layout<OutCh, InCh, Groups>::tile_frames(kSeveralTaps);
  int t = 0;
  for (; t + kTile <= num_frames; t += kTile)
    conv_tile<OutCh, InCh, Groups, kSeveralTaps, kAdd, kMixin, kTile>(
        weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
        offset_if<kAdd>(addend, t * addend_stride), addend_stride, mixin_from<kMixin>(mixin, t),
        output + t * output_stride, output_stride);
  for (; t < num_frames; ++t)
    conv_tile<OutCh, InCh, Groups, kSeveralTaps, kAdd, kMixin, 1>(
        weights, bias, taps, tap_offset, input + t * input_stride, input_stride,
        offset_if<kAdd>(addend, t * addend_stride), addend_stride, mixin_from<kMixin>(mixin, t),
        output + t * output_stride, output_stride);
}

/// \brief True when grouped_conv can add a one-channel mixin to the shape (out, in, groups) as it stores
/// (kMixin): one group, on the input-pair or the tile path (not a single output nor frame vectors).
constexpr bool mixin_in_store_fits(const int out, const int in, const int groups) {
  return groups == 1 && !single_output_fits(out, in, groups) && !frame_vectors_fit(out, in, groups);
}

/// \brief `output[:, t] = bias + sum_k W_k · input_k[:, t]` for t in [0, num_frames), where tap k reads
/// `input + k * tap_offset` (one tap unless kSeveralTaps); with kMixin, plus `mixin` (mixin_in_store_fits).
///
/// Layout: each input is column-major InCh x num_frames with a column every `input_stride` floats (one
/// column per frame); `output` likewise OutCh x num_frames with `output_stride`. The work is vectorized over
/// output channels, because a frame's channels are the contiguous dimension (vectorizing over frames would
/// need a transpose of every input and output), except for the narrow shapes of frame_vectors.h, whose
/// contiguous frames fill vectors as they lie, the single outputs of single_output.h, and the shapes of
/// input_pairs.h, whose outputs sum their inputs in pairs (input_pair_vectors). `weights` holds only the
/// diagonal blocks, taps one after the other, and `bias` is padded alike, as packing.h lays them out, so that
/// every vector the kernel loads is contiguous. Frames go in tiles that share each weight load. Unfused,
/// products are summed in input order, tap by tap, and added to the bias and then to the earlier taps, which
/// is how the generic path rounds; fused (kFusedMultiplyAdd), they are added one by one to the bias with
/// multiply-adds.
template <int OutCh, int InCh, int Groups, bool kSeveralTaps, bool kAdd = false, bool kMixin = false>
NAM_ALWAYS_INLINE void grouped_conv(const float* NAM_RESTRICT weights, const float* NAM_RESTRICT bias,
                                    const int taps, const long tap_offset, const float* NAM_RESTRICT input,
                                    const long input_stride, const float* NAM_RESTRICT addend,
                                    const long addend_stride, float* NAM_RESTRICT output,
                                    const long output_stride, const int num_frames,
                                    const OneChannelMixin& mixin = OneChannelMixin{}) {
  static_assert(!kMixin || mixin_in_store_fits(OutCh, InCh, Groups), "no mixin in this shape's store");
  // A compile-time 1 unless the kernel takes several taps, so that single-tap loops unroll away.
  const int tap_count = kSeveralTaps ? taps : 1;
  if constexpr (single_output_fits(OutCh, InCh, Groups)) {
    conv_single_output<InCh, kAdd>(weights, bias, tap_count, tap_offset, input, input_stride, addend,
                                   addend_stride, output, output_stride, num_frames);
    return;
  }
  if constexpr (quad_rotations_fit(OutCh, InCh, Groups)) {
    conv_quad_rotations<kSeveralTaps, kAdd, kMixin>(weights, bias, tap_count, tap_offset, input, input_stride,
                                                    addend, addend_stride, mixin, output, output_stride,
                                                    num_frames);
    return;
  }
  if constexpr (constexpr int kPairVectors = input_pair_vectors(OutCh, InCh, Groups, kSeveralTaps)) {
    conv_input_pairs<OutCh, InCh, kSeveralTaps, kAdd, kMixin, kPairVectors>(
        weights, bias, tap_count, tap_offset, input, input_stride, addend, addend_stride, mixin, output,
        output_stride, num_frames);
    return;
  }
  int done = 0;
  if constexpr (frame_vectors_fit(OutCh, InCh, Groups)) {
    if (input_stride == InCh && output_stride == OutCh && (!kAdd || addend_stride == OutCh)) {
      if constexpr (InCh == 1 && OutCh > 1)
        done = conv_spread_frames<OutCh, kAdd>(weights, bias, tap_count, tap_offset, input, addend, output,
                                               num_frames);
      else
        done = conv_frame_vectors<OutCh, InCh, kAdd>(weights, bias, tap_count, tap_offset, input, addend,
                                                     output, num_frames);
    }
  }
  conv_frames<OutCh, InCh, Groups, kSeveralTaps, kAdd, kMixin>(
      weights, bias, tap_count, tap_offset, input + done * input_stride, input_stride,
      offset_if<kAdd>(addend, done * addend_stride), addend_stride, mixin, output + done * output_stride,
      output_stride, num_frames - done);
}

/// \brief The Conv1x1 kernel (signature kernels::Conv1x1Fn): `out = W·in + b`, plus `addend` when it is not
/// null (its own frames, `addend_stride` apart; it must not overlap
/// `output`). Layout as grouped_conv.
template <int OutCh, int InCh, int Groups>
void conv1x1(const float* weights, const float* bias, const float* input, const long input_stride,
             const float* addend, const long addend_stride, float* output, const long output_stride,
             const int num_frames) {
  if (addend)
    grouped_conv<OutCh, InCh, Groups, false, true>(weights, bias, 1, 0, input, input_stride, addend,
                                                   addend_stride, output, output_stride, num_frames);
  else
    grouped_conv<OutCh, InCh, Groups, false>(weights, bias, 1, 0, input, input_stride, nullptr, 0, output,
                                             output_stride, num_frames);
}
