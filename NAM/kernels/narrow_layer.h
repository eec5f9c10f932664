// A narrow WaveNet layer (2 or 4 channels, as in the A1 nano preset) in one pass over its block: dilated
// convolution, input mixin, fast tanh, head sum, layer1x1 and residual, each vector of frames kept in
// registers from its taps to its output. Run apart, those are four kernel calls and four passes over the
// block, whose fixed costs outweigh the work at these widths, and the activation's divisions cannot overlap
// the convolutions' shuffles. Every value is computed with the operations, in the order, of the kernels and
// activation loop it replaces (frame_vectors.h, conv1x1.h, activations::detail::fast_tanh_fused), so the
// fused and separate paths give the same bits and a layer may take either, block by block.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after frame_vectors.h, whose products it uses.

/// \brief True when the narrow-layer kernel serves `channels` here: where the separate path runs the
/// frame-vector kernels (frame_vectors_fit) of both shapes it replaces, the square convolutions and the
/// mixin's one-input spread, so that the two paths compute alike.
constexpr bool narrow_layer_fits(const int channels) {
  return frame_vectors_fit(channels, channels, 1) && frame_vectors_fit(channels, 1, 1);
}

/// \brief activations::detail::fast_tanh_fused on every lane: its fused multiply-adds, each one explicit as
/// in that function (contraction alone would leave them separate in a build that optimizes little), so the
/// values are the activation loop's.
template <int N>
NAM_ALWAYS_INLINE Vec<N> fast_tanh_lanes(const Vec<N>& x) {
  using namespace ::nam::activations::detail;
  const auto lanes = [](const float value) { return broadcast<N>(value); };
  const auto fma = [](const Vec<N>& a, const Vec<N>& b, const Vec<N>& c) {
    return fused_multiply_add(a, b, c);
  };
  const Vec<N> u = abs_lanes<N>(x);
  const Vec<N> uu = u * u;
  const Vec<N> numerator =
      fma(fma(fma(lanes(kFastTanhC), u, lanes(kFastTanhB)), u, lanes(kFastTanhA)), u, lanes(kFastTanhA));
  const Vec<N> denominator = fma(uu + lanes(kFastTanhD), fma(lanes(kFastTanhE), uu, u), lanes(kFastTanhD));
  return x * numerator / denominator;
}

/// \brief One step: the sizeof...(V) vectors of kLanes / C frames each that start `at` floats into the block,
/// given each vector's input mixin. Each stage runs on every vector before the next starts, so that the
/// vectors' dependency chains (the convolution's sum alone is taps * C multiply-adds long) advance side by
/// side within the scheduler's reach.
template <int C, int... V>
NAM_ALWAYS_INLINE void narrow_layer_step(const float* NAM_RESTRICT weights, const NarrowLayerLayout layout,
                                         const long tap_offset, const float* NAM_RESTRICT oldest_tap,
                                         const long at, const Vec<kLanes>* mixin,
                                         float* NAM_RESTRICT head_sum, float* NAM_RESTRICT output,
                                         std::integer_sequence<int, V...>) {
  constexpr int kVectors = sizeof...(V);
  // The convolution (conv1d_tap's frame vectors): the bias, then every tap's products in input order.
  const Vec<kLanes> conv_bias = load<kLanes>(weights + layout.conv_bias());
  Vec<kLanes> conv[kVectors] = {(static_cast<void>(V), conv_bias)...};
  const int last = layout.taps - 1;
  for (int k = 0; k < last; ++k) {
    const float* tap = oldest_tap + k * tap_offset + at;
    const Vec<kLanes> taps[kVectors] = {load<kLanes>(tap + V * kLanes)...};
    add_frame_products<C, C, kVectors, 0>(conv, taps, weights + layout.tap_column(k, 0));
  }
  // The last tap reads the current frames: the layer input, which is also the residual.
  const float* current = oldest_tap + last * tap_offset + at;
  const Vec<kLanes> input[kVectors] = {load<kLanes>(current + V * kLanes)...};
  add_frame_products<C, C, kVectors, 0>(conv, input, weights + layout.tap_column(last, 0));
  const Vec<kLanes> activated[kVectors] = {fast_tanh_lanes<kLanes>(conv[V] + mixin[V])...};
  NAM_KERNEL_UNROLL
  for (int v = 0; v < kVectors; ++v)
    store_sum<true>(head_sum, head_sum, at + v * kLanes, activated[v]);
  // The layer1x1 (conv1x1's frame vectors) plus the residual.
  const Vec<kLanes> layer1x1_bias = load<kLanes>(weights + layout.layer1x1_bias());
  Vec<kLanes> mixed[kVectors] = {(static_cast<void>(V), layer1x1_bias)...};
  add_frame_products<C, C, kVectors, 0>(mixed, activated, weights + layout.layer1x1_column(0));
  NAM_KERNEL_UNROLL
  for (int v = 0; v < kVectors; ++v)
    store(output + at + v * kLanes, input[v] + mixed[v]);
}

/// \brief narrow_layer_step over `kGroups` groups of kLanes frames (C vectors each) from frame t. The input
/// mixin is conv_spread_frames' sum without a bias: zeros plus the product (one rounding) per vector.
template <int C, int kGroups>
NAM_ALWAYS_INLINE void narrow_layer_groups(const float* weights, const NarrowLayerLayout layout,
                                           const long tap_offset, const float* oldest_tap,
                                           const float* condition, float* head_sum, float* output,
                                           const int t) {
  const Vec<kLanes> mixin_weights = load<kLanes>(weights + layout.mixin());
  Vec<kLanes> mixin[kGroups * C];
  NAM_KERNEL_UNROLL
  for (int v = 0; v < kGroups * C; ++v)
    mixin[v] = zeros<kLanes>();
  NAM_KERNEL_UNROLL
  for (int g = 0; g < kGroups; ++g)
    add_spread_products<C, 0>(mixin + g * C, mixin_weights, load<kLanes>(condition + t + g * kLanes));
  narrow_layer_step<C>(weights, layout, tap_offset, oldest_tap, static_cast<long>(t) * C, mixin, head_sum,
                       output, std::make_integer_sequence<int, kGroups * C>());
}

/// \brief The narrow-layer kernel (signature kernels::NarrowLayerFn) for C channels.
template <int C>
void narrow_layer(const float* weights, const int taps, const long tap_offset, const float* oldest_tap,
                  const float* condition, float* head_sum, float* output, const int num_frames) {
  static_assert(narrow_layer_fits(C), "registered only where it fits");
  const NarrowLayerLayout layout{C, taps};
  // Steps of at least four vectors, so that enough chains overlap; then a last group of kLanes frames.
  constexpr int kGroups = C < 4 ? 4 / C : 1;
  int t = 0;
  for (; t + kGroups * kLanes <= num_frames; t += kGroups * kLanes)
    narrow_layer_groups<C, kGroups>(weights, layout, tap_offset, oldest_tap, condition, head_sum, output, t);
  for (; t < num_frames; t += kLanes)
    narrow_layer_groups<C, 1>(weights, layout, tap_offset, oldest_tap, condition, head_sum, output, t);
}
