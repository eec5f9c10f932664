#pragma once
/// \file registry.h
/// \brief The registered templated kernels (one per shape of kernels/conv1x1_shapes.inc and
/// kernels/conv1d_tap_shapes.inc, per instruction set) and how a layer picks one.
///
/// A layer picks once, when its shape is set: the best registered kernel for (out, in, groups) at or below
/// the instruction-set cap, else the same shape on a weaker instruction set, else none (nullptr), which means
/// the layer's generic Eigen path, correct for every shape. The definitions are compiled as part of
/// NAM/conv1d.cpp (see kernels/registry.inc), so plugin projects need no extra source file.

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "isa.h"
#include "packing.h"

namespace nam {
namespace kernels {

/// \brief A Conv1x1 kernel: `output[:, t] = W · input[:, t] + bias` for t in [0, num_frames), then
/// `+ addend[:, t]` when `addend` is not null (a residual or a sum fused
/// into the store; the addend must not overlap the output). Column-major: a column of `in` (resp. `out`)
/// floats per frame, columns `input_stride` (resp. `addend_stride`, `output_stride`) floats apart.
/// `weights` and `bias` in the packed layouts of pack_block_diagonal and pack_bias; `bias` is never null (a
/// layer without one passes zeros, which change no value: one kernel per shape serves both). Real-time
/// safe: no allocation.
using Conv1x1Fn = void (*)(const float* weights, const float* bias, const float* input, long input_stride,
                           const float* addend, long addend_stride, float* output, long output_stride,
                           int num_frames);

/// \brief A Conv1D kernel, specialized on the shape of one tap: `output[:, t] = bias + sum_k W_k ·
/// input_k[:, t]` for t in [0, num_frames), over `taps` taps, where tap
/// k reads `input + k * tap_offset` (so a dilated conv passes its oldest tap's window and the dilation times
/// the stride). Layout as Conv1x1Fn; the taps' packed weights follow each other (packed_size floats each).
/// Unfused (kernels::fuses_multiply_add false), sums are rounded as the generic path rounds them: each tap on
/// its own, added to the bias, then tap by tap; fused, every product is added to the bias in turn.
using Conv1DTapFn = void (*)(const float* weights, const float* bias, int taps, long tap_offset,
                             const float* input, long input_stride, float* output, long output_stride,
                             int num_frames);

/// \brief A Conv1DTapFn with a WaveNet layer's input mixin from one condition channel added in the same
/// store: `output[:, t] = conv[:, t] + (mixin_weights * condition[t] + mixin_bias)` (one float of
/// `condition` per frame; `mixin_weights` and `mixin_bias` packed as an (out, 1, 1) Conv1x1's), with the
/// values of the tap kernel followed by that Conv1x1's kernel, on the same instruction set, taking the
/// convolution's output as its addend. Real-time safe.
using Conv1DMixinFn = void (*)(const float* weights, const float* bias, int taps, long tap_offset,
                               const float* input, long input_stride, const float* mixin_weights,
                               const float* mixin_bias, const float* condition, float* output,
                               long output_stride, int num_frames);

/// \brief A narrow WaveNet layer in one pass (narrow_layer.h): a dilated convolution of `taps` taps over
/// C channels with bias (tap k reads `oldest_tap + k * tap_offset`, C floats per frame; the last tap is the
/// layer input), plus an input mixin from one condition channel (`condition`, one float per frame), fast
/// tanh, the result added to `head_sum`, then a C x C layer1x1 with bias plus the layer input into `output`
/// (C floats per frame; it may not overlap the taps). `weights` in NarrowLayerLayout. `num_frames` is a
/// multiple of the kernel's NarrowLayerKernel::frames. The same values as the separate kernels. Real-time
/// safe.
using NarrowLayerFn = void (*)(const float* weights, int taps, long tap_offset, const float* oldest_tap,
                               const float* condition, float* head_sum, float* output, int num_frames);

/// \brief The activation of a paired layer.
enum class PairedActivation : int {
  leaky_relu, ///< LeakyReLU with PairedLayerWeights::negative_slope (activations::leaky_relu)
  fast_tanh,  ///< fast tanh (activations::detail::fast_tanh_fused, as the activation loop computes it)
};

/// \brief A paired-layer kernel's weights: those of the layer's own convolutions, as they packed them for
/// their kernels (Conv1D::packed_weights, Conv1x1::packed_weights), and its activation.
struct PairedLayerWeights {
  const float* conv = nullptr;                                ///< the dilated convolution's taps
  const float* conv_bias = nullptr;                           ///< its bias
  const float* mixin = nullptr;                               ///< the (C, 1, 1) input mixin's weights
  const float* mixin_bias = nullptr;                          ///< its bias (zeros)
  const float* layer1x1 = nullptr;                            ///< the C x C layer1x1's weights
  const float* layer1x1_bias = nullptr;                       ///< its bias
  float negative_slope = 0.0f;                                ///< the LeakyReLU's
  PairedActivation activation = PairedActivation::leaky_relu; ///< which activation the layer applies
};

/// \brief A WaveNet layer whose channels fill half a vector, in one pass (paired_layer.h): the layer of
/// NarrowLayerFn with LeakyReLU or fast tanh, its weights those of its convolutions. `num_frames` is even.
/// The same values as the separate kernels and activation loop. Real-time safe.
using PairedLayerFn = void (*)(const PairedLayerWeights& weights, int taps, long tap_offset,
                               const float* oldest_tap, const float* condition, float* head_sum,
                               float* output, int num_frames);

/// \brief One registered kernel: its name (e.g. "conv1x1_o16i8g2__avx2"), its shape and instruction set.
template <class Fn>
struct KernelInfo {
  const char* name; ///< `<layer>_o<out>i<in>g<groups>__<isa>`
  int out;          ///< output channels
  int in;           ///< input channels
  int groups;       ///< channel groups
  Isa isa;          ///< instruction set it is compiled for
  Fn fn;            ///< the kernel
};
/// \brief A registered Conv1x1 kernel (one line of conv1x1_shapes.inc on one instruction set).
using Conv1x1Kernel = KernelInfo<Conv1x1Fn>;
/// \brief A registered Conv1D tap kernel (one line of conv1d_tap_shapes.inc on one instruction set), with
/// its input-mixin variant where the shape has one there (one group, neither one output nor the frame-vector
/// shapes: mixin_in_store_fits in conv1x1.h).
struct Conv1DTapKernel : KernelInfo<Conv1DTapFn> {
  Conv1DMixinFn with_mixin; ///< the kernel plus a one-channel input mixin, or nullptr
};

/// \brief A registered kernel that runs a whole WaveNet layer in one pass.
template <class Fn>
struct LayerKernelInfo {
  const char* name; ///< `<kind>_layer_c<channels>__<isa>`
  int channels;     ///< C
  int frames;       ///< the block sizes it takes are multiples of this
  Isa isa;          ///< instruction set it is compiled for
  Fn fn;            ///< the kernel
};
/// \brief A registered narrow-layer kernel.
using NarrowLayerKernel = LayerKernelInfo<NarrowLayerFn>;

/// \brief A registered paired-layer kernel (frames 2: it runs on frame pairs).
using PairedLayerKernel = LayerKernelInfo<PairedLayerFn>;

/// \brief Names of the generic paths, as reported for layers that run no templated kernel.
inline constexpr const char* kConv1x1GenericName = "conv1x1__generic";
/// \brief Name reported for Conv1D layers on the generic path.
inline constexpr const char* kConv1DTapGenericName = "conv1d_tap__generic";
/// \brief Name reported for a plain narrow layer that runs its convolutions separately.
inline constexpr const char* kNarrowLayerSeparateName = "narrow_layer__separate";
/// \brief Name reported for a plain LeakyReLU or fast-tanh layer of half a vector that runs its convolutions
/// separately.
inline constexpr const char* kPairedLayerSeparateName = "paired_layer__separate";

/// \brief Every compiled-in Conv1x1 kernel: all shapes for baseline, then for avx2, then avx512 (where
/// compiled). Includes kernels this CPU cannot run; check isa_available() before calling one.
std::span<const Conv1x1Kernel> conv1x1_kernels();
/// \brief Every compiled-in Conv1D tap kernel, ordered as conv1x1_kernels().
std::span<const Conv1DTapKernel> conv1d_tap_kernels();

/// \brief The kernel a Conv1x1 of this shape runs, or nullptr for the generic path (unregistered shape,
/// depthwise, or the generic path forced). Reports the pick to the pick listener, if one is set.
Conv1x1Fn pick_conv1x1_kernel(int out, int in, int groups);
/// \brief The kernel a Conv1D whose taps have this shape runs (all taps in one call), or nullptr (as
/// pick_conv1x1_kernel).
Conv1DTapFn pick_conv1d_tap_kernel(int out, int in, int groups);

/// \brief Every compiled-in narrow-layer kernel (avx2, then avx512, where compiled).
std::span<const NarrowLayerKernel> narrow_layer_kernels();
/// \brief The narrow-layer kernel for `channels` on the best instruction set at or below the cap, or nullptr
/// (none for that width there, or the generic path forced; see set_force_generic). Reports the pick to the
/// pick listener, if one is set, except a missing kernel when `report_if_missing` is false: a layer that
/// tries the paired kernel next reports that pick instead, so that each layer reports one.
const NarrowLayerKernel* pick_narrow_layer_kernel(int channels, bool report_if_missing);

/// \brief Every compiled-in paired-layer kernel.
std::span<const PairedLayerKernel> paired_layer_kernels();
/// \brief The paired-layer kernel for `channels` on the selected instruction set, or nullptr (none there, or
/// the generic path forced). Only there: the separate kernels it stands for are registered at every level,
/// so a layer that could run it picks theirs on the selected one, and the two must round alike. Reports the
/// pick to the pick listener, if one is set.
const PairedLayerKernel* pick_paired_layer_kernel(int channels);

/// \brief The input-mixin variant of a picked Conv1D tap kernel (same shape and instruction set, so the
/// same values plus the mixin), or nullptr when it has none or `kernel` is nullptr.
Conv1DMixinFn conv1d_tap_mixin_variant(Conv1DTapFn kernel);

/// \brief Name of a picked kernel; the generic name for nullptr.
const char* conv1x1_kernel_name(Conv1x1Fn kernel);
/// \brief Name of a picked Conv1D tap kernel; the generic name for nullptr.
const char* conv1d_tap_kernel_name(Conv1DTapFn kernel);

/// \brief When set, every pick made from now on returns nullptr, so layers built afterwards run the generic
/// path (`benchmodel --generic`, `render --generic`). Layers already built keep their pick. Process-wide
/// (atomic); set it before loading models.
void set_force_generic(bool force);
/// \brief Whether the generic path is forced (see set_force_generic).
bool force_generic();

/// \brief PickReport::layer of a WaveNet layer's pick of the narrow one-kernel form.
inline constexpr const char* kNarrowLayerKind = "narrow_layer";
/// \brief PickReport::layer of a WaveNet layer's pick of the paired one-kernel form.
inline constexpr const char* kPairedLayerKind = "paired_layer";

/// \brief What a pick chose, for tools that list each layer's kernel (`loadmodel --kernels`).
struct PickReport {
  const char* layer;       ///< "conv1x1", "conv1d_tap", or kNarrowLayerKind or kPairedLayerKind (a WaveNet
                           ///< layer in one kernel)
  int out;                 ///< output channels
  int in;                  ///< input channels
  int groups;              ///< channel groups
  const char* kernel;      ///< the picked kernel's name, or the generic name
  std::string why_generic; ///< empty when a templated kernel was picked

  /// \brief True for a WaveNet layer's pick of a one-kernel form, false for a convolution's kernel.
  bool one_kernel_layer() const {
    return std::string_view(layer) == kNarrowLayerKind || std::string_view(layer) == kPairedLayerKind;
  }
};

/// \brief Calls `listener` on every pick from now on, on the thread that builds the layer, one call at a
/// time; an empty function stops the reports. Picks happen while models load, never in process().
void set_pick_listener(std::function<void(const PickReport&)> listener);

} // namespace kernels
} // namespace nam
