// A WaveNet layer whose channels fill half a vector (8 at AVX-512, as in A2), plain as narrow_layer.h's (a
// layer1x1, one condition channel, no gating, FiLM or head1x1), with LeakyReLU or fast tanh, in one pass over
// its block: the dilated convolution and input mixin of quad_rotations.h, two frames to a vector, then on
// each such vector in registers the activation, the head sum, the layer1x1 (the activated vector is its pair
// of input quads as it stands) and the residual. Run apart, the activation is a pass of its own over the
// block and the layer1x1 reloads the activated values from memory. Every value is computed with the
// operations, in the order, of the kernels and the activation loop it replaces (quad_rotation_tile,
// activations.cpp), so the two paths give the same bits and a layer may take either, block by block.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after quad_rotations.h, whose sums it uses.

/// \brief True when the paired-layer kernel serves `channels` here: two frames' outputs fill a vector, and
/// the separate path runs both of the layer's convolutions on rotated quads.
constexpr bool paired_layer_fits(const int channels) {
  return 2 * channels == kLanes && quad_rotations_fit(channels, channels, 1);
}

/// \brief LeakyReLU on every lane: `max(x, -0) + slope * min(x, 0)`, activations::leaky_relu's operations.
/// Whether or not the multiply and the add contract, the value is the same: one of the two terms is a zero.
struct LeakyReluLanes {
  Vec<kLanes> slope; ///< the negative slope in every lane
  /// \brief LeakyReLU of every lane of `x`.
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes>& x) const {
    return max_lanes(x, broadcast<kLanes>(-0.0f)) + slope * min_lanes(x, zeros<kLanes>());
  }
};

/// \brief Fast tanh on every lane, as the activation loop computes it (fast_tanh_lanes).
struct FastTanhLanes {
  /// \brief Fast tanh of every lane of `x`.
  NAM_ALWAYS_INLINE Vec<kLanes> operator()(const Vec<kLanes>& x) const { return fast_tanh_lanes<kLanes>(x); }
};

/// \brief kPairs pairs of consecutive frames of the layer: C floats per frame in the taps, the head sum and
/// the output; `condition` holds the tile's first frame's. Each stage runs on every pair of frames before the
/// next starts, so that the pairs' dependency chains advance side by side.
template <int C, int kPairs, class Activation>
NAM_ALWAYS_INLINE void paired_layer_tile(const PairedLayerWeights& weights, const Activation& activation,
                                         const int taps, const long tap_offset,
                                         const float* NAM_RESTRICT oldest_tap,
                                         const float* NAM_RESTRICT condition, float* NAM_RESTRICT head_sum,
                                         float* NAM_RESTRICT output) {
  Vec<kLanes> conv[kPairs][2];
  quad_rotation_sums<kPairs, true, false>(weights.conv, taps, tap_offset, oldest_tap, C, conv);
  const QuadPairOutputs<true> conv_outputs{
      {weights.conv_bias, OneChannelMixin{weights.mixin, weights.mixin_bias, condition}}};
  Vec<kLanes> activated[kPairs];
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    activated[p] = conv_outputs(conv[p], condition + 2 * p);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    activated[p] = activation(activated[p]);
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    store_sum<true>(head_sum, head_sum, 2 * p * C, activated[p]);
  // The layer1x1 plus the residual: the last tap's frames, the layer input.
  const float* NAM_RESTRICT layer_input = oldest_tap + (taps - 1) * tap_offset;
  const QuadPairOutputs<false> layer1x1_outputs{{weights.layer1x1_bias, OneChannelMixin{}}};
  const float* NAM_RESTRICT columns = weights.layer1x1 + quad_rotation_copy_offset(C, C);
  Vec<kLanes> sums[kPairs][2];
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p) {
    sums[p][0] = sums[p][1] = zeros<kLanes>();
    add_quad_products(sums[p], columns, activated[p]);
  }
  NAM_KERNEL_UNROLL
  for (int p = 0; p < kPairs; ++p)
    store_sum<true>(output, layer_input, 2 * p * C, layer1x1_outputs(sums[p], nullptr));
}

/// \brief paired_layer_tile over a block: tiles of the convolution's several-tap tile (quad_rotations.h),
/// then pairs.
template <int C, class Activation>
NAM_ALWAYS_INLINE void paired_layer_frames(const PairedLayerWeights& weights, const Activation& activation,
                                           const int taps, const long tap_offset, const float* oldest_tap,
                                           const float* condition, float* head_sum, float* output,
                                           const int num_frames) {
  constexpr int kTilePairs = kAccumulators / 2;
  int t = 0;
  for (; t + 2 * kTilePairs <= num_frames; t += 2 * kTilePairs)
    paired_layer_tile<C, kTilePairs>(weights, activation, taps, tap_offset, oldest_tap + t * C, condition + t,
                                     head_sum + t * C, output + t * C);
  for (; t < num_frames; t += 2)
    paired_layer_tile<C, 1>(weights, activation, taps, tap_offset, oldest_tap + t * C, condition + t,
                            head_sum + t * C, output + t * C);
}

/// \brief The paired-layer kernel (signature kernels::PairedLayerFn) for C channels.
template <int C>
void paired_layer(const PairedLayerWeights& weights, const int taps, const long tap_offset,
                  const float* oldest_tap, const float* condition, float* head_sum, float* output,
                  const int num_frames) {
  static_assert(paired_layer_fits(C), "registered only where it fits");
  if (weights.activation == PairedActivation::fast_tanh)
    paired_layer_frames<C>(weights, FastTanhLanes{}, taps, tap_offset, oldest_tap, condition, head_sum,
                           output, num_frames);
  else
    paired_layer_frames<C>(weights, LeakyReluLanes{broadcast<kLanes>(weights.negative_slope)}, taps,
                           tap_offset, oldest_tap, condition, head_sum, output, num_frames);
}
