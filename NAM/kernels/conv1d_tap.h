// The templated kernel of a dilated Conv1D, specialized on the shape of one tap (out, in, groups): it runs
// every tap of a block, out = b + sum_k W_k·x[t - (taps - 1 - k)·dilation], with the running sums in
// registers from the first tap to the last. Conv1D keeps its input history contiguous (RingBuffer), so the
// window of tap k is the oldest tap's window shifted by k·dilation columns: a pointer and an offset.
//
// No include guard on purpose: kernels/registry.inc includes this file once per instruction-set namespace,
// after conv1x1.h (which defines grouped_conv).

/// \brief The Conv1D kernel (signature kernels::Conv1DTapFn): `output[:, t] = bias + sum_k W_k ·
/// input[:, t + k * tap_offset / input_stride]` for k in [0, taps). Layout and packing as grouped_conv.
template <int OutCh, int InCh, int Groups>
void conv1d_tap(const float* weights, const float* bias, const int taps, const long tap_offset,
                const float* input, const long input_stride, float* output, const long output_stride,
                const int num_frames) {
  grouped_conv<OutCh, InCh, Groups, true>(weights, bias, taps, tap_offset, input, input_stride, nullptr, 0,
                                          output, output_stride, num_frames);
}

/// \brief conv1d_tap plus a WaveNet layer's input mixin from one condition channel, added in the same store
/// (signature kernels::Conv1DMixinFn): `output[:, t] = conv[:, t] + (mixin_weights * condition[t] +
/// mixin_bias)`, the values of conv1d_tap followed by the (out, 1, 1) Conv1x1 kernel with the convolution's
/// output as its addend. For the shapes of mixin_in_store_fits.
template <int OutCh, int InCh, int Groups>
void conv1d_tap_mixin(const float* weights, const float* bias, const int taps, const long tap_offset,
                      const float* input, const long input_stride, const float* mixin_weights,
                      const float* mixin_bias, const float* condition, float* output,
                      const long output_stride, const int num_frames) {
  grouped_conv<OutCh, InCh, Groups, true, false, true>(weights, bias, taps, tap_offset, input, input_stride,
                                                       nullptr, 0, output, output_stride, num_frames,
                                                       OneChannelMixin{mixin_weights, mixin_bias, condition});
}

/// \brief conv1d_tap_mixin for this shape, or nullptr where it has none (mixin_in_store_fits).
template <int OutCh, int InCh, int Groups>
constexpr Conv1DMixinFn conv1d_tap_mixin_or_null() {
  if constexpr (mixin_in_store_fits(OutCh, InCh, Groups))
    return &conv1d_tap_mixin<OutCh, InCh, Groups>;
  else
    return nullptr;
}
