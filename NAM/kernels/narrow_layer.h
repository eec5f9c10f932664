// A narrow WaveNet layer (2 or 4 channels, as in the A1 nano preset) in one pass over its block: dilated
// convolution, input mixin, fast tanh, head sum, layer1x1 and residual, each vector of frames kept in
// registers from its taps to its output. Run apart, those are four kernel calls and four passes over the
// block, whose fixed costs outweigh the work at these widths, and the activation's divisions cannot overlap
// the convolutions' shuffles. Every value is computed with the operations, in the order, of the kernels and
// activation loop it replaces (frame_vectors.h, conv1x1.h, activations::detail::fast_tanh_fused), so the
// fused and separate paths give the same bits and a layer may take either, block by block.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after frame_vectors.h, whose lane maps it uses.

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
  const auto lanes = [](const float value) { return zeros<N>() + value; };
  const auto fma = [](const Vec<N>& a, const Vec<N>& b, const Vec<N>& c) {
    return fused_multiply_add(a, b, c);
  };
  const Vec<N> u = abs_lanes<N>(x);
  const Vec<N> numerator =
      fma(fma(fma(lanes(kFastTanhC), u, lanes(kFastTanhB)), u, lanes(kFastTanhA)), u, lanes(kFastTanhA));
  const Vec<N> denominator =
      fma(fma(fma(fma(lanes(kFastTanhE), u, lanes(1.0f)), u, lanes(kFastTanhDE)), u, lanes(kFastTanhD)), u,
          lanes(kFastTanhD));
  return x * numerator / denominator;
}

/// \brief Vector V of a group of kLanes frames (kLanes / C frames per vector), starting `at` floats into the
/// block; `condition` holds the group's kLanes condition values.
template <int C, int V>
NAM_ALWAYS_INLINE void narrow_layer_vector(const float* NAM_RESTRICT weights, const NarrowLayerLayout layout,
                                           const long tap_offset, const float* NAM_RESTRICT oldest_tap,
                                           const long at, const Vec<kLanes>& condition,
                                           float* NAM_RESTRICT head_sum, float* NAM_RESTRICT output) {
  const long offset = at + V * kLanes;
  // The convolution (conv1d_tap's frame vectors): the bias, then every tap's products in input order.
  Vec<kLanes> conv = load<kLanes>(weights + layout.conv_bias());
  const int last = layout.taps - 1;
  for (int k = 0; k < last; ++k) {
    const Vec<kLanes> tap = load<kLanes>(oldest_tap + k * tap_offset + offset);
    add_frame_products<C, 1, 0>(&conv, &tap, weights + layout.tap_column(k, 0));
  }
  // The last tap reads the current frames: the layer input, which is also the residual.
  const Vec<kLanes> input = load<kLanes>(oldest_tap + last * tap_offset + offset);
  add_frame_products<C, 1, 0>(&conv, &input, weights + layout.tap_column(last, 0));
  // The mixin's product (conv1x1's spread frames: zeros plus the product, one rounding), then added.
  Vec<kLanes> mixin = zeros<kLanes>();
  mixin += load<kLanes>(weights + layout.mixin()) *
           shuffle_lanes<SpreadFrame<C, V*(kLanes / C)>, kLanes>(condition);
  const Vec<kLanes> activated = fast_tanh_lanes<kLanes>(conv + mixin);
  store(head_sum + offset, load<kLanes>(head_sum + offset) + activated);
  // The layer1x1 (conv1x1's frame vectors) plus the residual.
  Vec<kLanes> mixed = load<kLanes>(weights + layout.layer1x1_bias());
  add_frame_products<C, 1, 0>(&mixed, &activated, weights + layout.layer1x1_column(0));
  store(output + offset, input + mixed);
}

template <int C, int... V>
NAM_ALWAYS_INLINE void narrow_layer_group(const float* weights, const NarrowLayerLayout layout,
                                          const long tap_offset, const float* oldest_tap, const long at,
                                          const Vec<kLanes>& condition, float* head_sum, float* output,
                                          std::integer_sequence<int, V...>) {
  (narrow_layer_vector<C, V>(weights, layout, tap_offset, oldest_tap, at, condition, head_sum, output), ...);
}

/// \brief The narrow-layer kernel (signature kernels::NarrowLayerFn) for C channels.
template <int C>
void narrow_layer(const float* weights, const int taps, const long tap_offset, const float* oldest_tap,
                  const float* condition, float* head_sum, float* output, const int num_frames) {
  static_assert(narrow_layer_fits(C), "registered only where it fits");
  const NarrowLayerLayout layout{C, taps};
  // A group of kLanes frames: one vector of their condition values, C vectors of each signal.
  for (int t = 0; t < num_frames; t += kLanes)
    narrow_layer_group<C>(weights, layout, tap_offset, oldest_tap, static_cast<long>(t) * C,
                          load<kLanes>(condition + t), head_sum, output,
                          std::make_integer_sequence<int, C>());
}
