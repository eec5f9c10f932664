// A WaveNet layer whose channels fill half a vector (8 at AVX-512, as in A2), plain as narrow_layer.h's (a
// layer1x1, one condition channel, no gating, FiLM or head1x1) but with LeakyReLU, in one pass over its
// block: the dilated convolution and input mixin of input_pairs.h, two frames to a vector, then on each such
// vector in registers the activation, the head sum, the layer1x1 (its input pairs shuffled out of the
// activated vector) and the residual. Run apart, the activation is a pass of its own over the block and the
// layer1x1 reloads the activated values from memory, a broadcast per pair of inputs. Every value is computed
// with the operations, in the order, of the kernels and the activation loop it replaces (input_pair_tile,
// activations.cpp), so the two paths give the same bits and a layer may take either, block by block.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after input_pairs.h, whose sums it uses.

/// \brief True when the paired-layer kernel serves `channels` here: two frames' outputs fill a vector, and
/// the separate path runs both of the layer's convolutions on input pairs, one vector per frame.
constexpr bool paired_layer_fits(const int channels) {
  return 2 * channels == kLanes && input_pair_vectors(channels, channels, 1, true) == 1 &&
         input_pair_vectors(channels, channels, 1, false) == 1;
}

/// \brief Lane l takes lane kFirst + l % 2: one frame's inputs kFirst and kFirst + 1, repeated (what
/// load_repeated_pair reads from memory).
template <int kFirst>
struct RepeatedPairAt {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return kFirst + l % 2; }
};

/// \brief LeakyReLU on every lane: `max(x, -0) + slope * min(x, 0)`, activations::leaky_relu's operations.
/// Whether or not the multiply and the add contract, the value is the same: one of the two terms is a zero.
struct LeakyReluLanes {
  Vec<kLanes> slope; ///< the negative slope in every lane
  /// \brief LeakyReLU of every lane of `x`.
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes>& x) const {
    return max_lanes(x, broadcast<kLanes>(-0.0f)) + slope * min_lanes(x, zeros<kLanes>());
  }
};

/// \brief Adds to `sums` the layer1x1's products for the frame whose C inputs start at lane kFirst of
/// `frames` (two frames' activated outputs), for inputs 2Q and 2Q + 1: conv1x1's input-pair products
/// (input_pair_sums, one tap), with each pair of inputs shuffled out of the register instead of loaded.
template <int kFirst, int Q>
NAM_ALWAYS_INLINE void add_pair_products(Vec<kLanes>& sums, const Vec<kLanes>& column,
                                         const Vec<kLanes>& frames) {
  sums = fused_multiply_add(column, shuffle_lanes<RepeatedPairAt<kFirst + 2 * Q>, kLanes>(frames), sums);
}

/// \brief `kFrames` (even) consecutive frames of the layer: C floats per frame in the taps, the head sum
/// and the output; `condition` holds the tile's first frame's. Each stage runs on every pair of frames
/// before the next starts, so that the pairs' dependency chains advance side by side.
template <int C, int kFrames, class Activation>
NAM_ALWAYS_INLINE void paired_layer_tile(const PairedLayerWeights& weights, const Activation& activation,
                                         const int taps, const long tap_offset,
                                         const float* NAM_RESTRICT oldest_tap,
                                         const float* NAM_RESTRICT condition, float* NAM_RESTRICT head_sum,
                                         float* NAM_RESTRICT output) {
  constexpr int kPairs = kFrames / 2;
  Vec<kLanes> conv[kFrames][1];
  input_pair_sums<C, C, 1, kFrames>(weights.conv, taps, tap_offset, oldest_tap, C, conv);
  const FramePairOutputs<C, true> conv_outputs(weights.conv_bias,
                                               OneChannelMixin{weights.mixin, weights.mixin_bias, condition});
  Vec<kLanes> activated[kPairs];
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    activated[p] = conv_outputs(conv[2 * p][0], conv[2 * p + 1][0], condition + 2 * p);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    activated[p] = activation(activated[p]);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    store_sum<true>(head_sum, head_sum, 2 * p * C, activated[p]);
  // The layer1x1 plus the residual: the last tap's frames, the layer input.
  const float* NAM_RESTRICT layer_input = oldest_tap + (taps - 1) * tap_offset;
  const FramePairOutputs<C, false> layer1x1_outputs(weights.layer1x1_bias, OneChannelMixin{});
  const float* NAM_RESTRICT columns = weights.layer1x1 + second_copy_offset(C, C);
  Vec<kLanes> sums[kPairs][2];
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    sums[p][0] = sums[p][1] = zeros<kLanes>();
  [&]<int... Q>(std::integer_sequence<int, Q...>) {
    (
        [&] {
          const Vec<kLanes> column = load<kLanes>(columns + Q * kLanes);
          NAM_KERNEL_UNROLL
          for (int p = 0; p < kPairs; ++p) {
            add_pair_products<0, Q>(sums[p][0], column, activated[p]);
            add_pair_products<C, Q>(sums[p][1], column, activated[p]);
          }
        }(),
        ...);
  }
  (std::make_integer_sequence<int, C / 2>());
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    store_sum<true>(output, layer_input, 2 * p * C, layer1x1_outputs(sums[p][0], sums[p][1], nullptr));
}

/// \brief paired_layer_tile over a block: tiles of the convolution's several-tap tile (input_pairs.h), then
/// pairs.
template <int C, class Activation>
NAM_ALWAYS_INLINE void paired_layer_frames(const PairedLayerWeights& weights, const Activation& activation,
                                           const int taps, const long tap_offset, const float* oldest_tap,
                                           const float* condition, float* head_sum, float* output,
                                           const int num_frames) {
  constexpr int kTile = kAccumulators;
  int t = 0;
  for (; t + kTile <= num_frames; t += kTile)
    paired_layer_tile<C, kTile>(weights, activation, taps, tap_offset, oldest_tap + t * C, condition + t,
                                head_sum + t * C, output + t * C);
  for (; t < num_frames; t += 2)
    paired_layer_tile<C, 2>(weights, activation, taps, tap_offset, oldest_tap + t * C, condition + t,
                            head_sum + t * C, output + t * C);
}

/// \brief The paired-layer kernel (signature kernels::PairedLayerFn) for C channels.
template <int C>
void paired_layer(const PairedLayerWeights& weights, const int taps, const long tap_offset,
                  const float* oldest_tap, const float* condition, float* head_sum, float* output,
                  const int num_frames) {
  static_assert(paired_layer_fits(C), "registered only where it fits");
  paired_layer_frames<C>(weights, LeakyReluLanes{broadcast<kLanes>(weights.negative_slope)}, taps, tap_offset,
                         oldest_tap, condition, head_sum, output, num_frames);
}
