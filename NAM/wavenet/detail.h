#pragma once
/// \file detail.h
/// \brief The parts a WaveNet is made of: layers, layer arrays and the post-stack head.
///
/// Every signal is a column-major (channels x frames) matrix with one column per frame, sized for the max
/// buffer size; only the first `num_frames` columns of a block are meaningful.

#include <array>
#include <optional>
#include <vector>

#include <Eigen/Dense>

#include "../conv1d.h"
#include "../dsp.h"
#include "../film.h"
#include "../gating_activations.h"
#include "params.h"

namespace nam {
namespace wavenet {
namespace detail {

/// \brief One residual layer: dilated conv + input mixin, activation (plain, gated or blended), then the
/// 1x1 back to the residual channels and the head output, with optional FiLMs in eight places.
class Layer {
public:
  /// Throws std::runtime_error for inconsistent shapes (bottleneck without layer1x1, a post-head-1x1 FiLM
  /// without head1x1, groups that do not divide).
  explicit Layer(const LayerParams& params);

  /// \brief Throws what the constructor would throw for these parameters, without allocating.
  static void check(const LayerParams& params);

  /// \brief Values `set_weights_` consumes for a layer of this shape.
  static long long count_weights(const LayerParams& params);

  void SetMaxBufferSize(const int maxBufferSize);
  void set_weights_(std::vector<float>::iterator& weights);

  /// \brief Processes `num_frames` frames of the layer input (C rows) with the condition (condition_size
  /// rows). Results: the residual output in `output_next_layer` (C rows, first `num_frames` columns; the
  /// next layer's input block or GetOutputNextLayer(), not overlapping `input`) and the head output (head
  /// width rows), added to `head_sum` (head width contiguous floats per frame) and kept in GetOutputHead(),
  /// except where the layer ran as one kernel (kernels/narrow_layer.h, kernels/paired_layer.h), which writes
  /// only `head_sum`.
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& input,
               const Eigen::Ref<const Eigen::MatrixXf>& condition, const int num_frames,
               Eigen::Ref<Eigen::MatrixXf> output_next_layer, float* head_sum);

  /// \brief Where the next Process() of `num_frames` frames would rather find its input (C contiguous
  /// rows per column; see Conv1D::input_block), or null when a FiLM modulates the input before the
  /// convolution. Input computed there is not copied.
  float* input_block(const int num_frames) {
    return film(FilmSite::conv_input) ? nullptr : _conv.input_block(num_frames);
  }

  /// \brief The layer's own matrix for its residual output (see Process).
  Eigen::MatrixXf& GetOutputNextLayer() { return _output_next_layer; }
  Eigen::MatrixXf& GetOutputHead() { return _head1x1 ? _head1x1->GetOutput() : activation_output(); }

  /// \brief Past frames the dilated conv reads: (kernel_size - 1) * dilation.
  long get_receptive_field() const {
    return static_cast<long>(_conv.get_kernel_size() - 1) * _conv.get_dilation();
  }
  Conv1D& conv() { return _conv; }

private:
  /// Convolution + mixin, on which the activation works in place (it is the activation output when not
  /// gated): the mixin's own output, which its kernel writes as the conv output plus its product, or, when
  /// a FiLM must modulate the mixin output first, the conv's output with the mixin added.
  Eigen::MatrixXf& z() { return film(FilmSite::mixin_output) ? _conv.GetOutput() : _input_mixin.GetOutput(); }
  FiLM* film(const FilmSite site) {
    auto& slot = _films[static_cast<int>(site)];
    return slot ? &*slot : nullptr;
  }
  Eigen::MatrixXf& activation_output() { return _gating_mode == GatingMode::NONE ? z() : _activation; }
  /// Runs the whole layer as its one-pass kernel, when it has one and the block suits it (frames, contiguous
  /// condition and output); returns false, having done nothing, otherwise.
  bool process_in_one_pass(const Eigen::Ref<const Eigen::MatrixXf>& input,
                           const Eigen::Ref<const Eigen::MatrixXf>& condition, const int n,
                           Eigen::Ref<Eigen::MatrixXf>& output_next_layer, float* head_sum);
  /// z() = conv output + input mixin, in a pass after the conv's: where FiLMs come between them or the
  /// condition is strided. The conv output has been computed for `n` frames.
  void add_mixin_after_conv(const Eigen::Ref<const Eigen::MatrixXf>& condition, const int n);
  /// Fills _narrow_layer_weights from the layer's weights.
  void pack_narrow_layer();

  GatingMode _gating_mode;
  Conv1D _conv;
  Conv1x1 _input_mixin;
  std::optional<Conv1x1> _layer1x1;
  std::optional<Conv1x1> _head1x1;
  activations::Activation::Ptr _primary;
  std::optional<gating_activations::GatingActivation> _gating;
  std::optional<gating_activations::BlendingActivation> _blending;
  std::array<std::optional<FiLM>, kFilmSiteCount> _films; // indexed by FilmSite; empty where inactive
  Eigen::MatrixXf _activation;                            // gated/blended activation (bottleneck rows)
  Eigen::MatrixXf _output_next_layer;
  /// The one-pass kernel for this layer (a narrow plain layer with fast tanh; see the constructor), or null;
  /// its weights in kernels::NarrowLayerLayout.
  const kernels::NarrowLayerKernel* _narrow_layer = nullptr;
  AlignedVector<float> _narrow_layer_weights;
  /// The one-pass kernel for a plain LeakyReLU or fast-tanh layer of half a vector's width, or null.
  const kernels::PairedLayerKernel* _paired_layer = nullptr;
  kernels::PairedActivation _paired_activation = kernels::PairedActivation::leaky_relu; ///< for _paired_layer
  float _negative_slope = 0.0f; ///< the LeakyReLU's, for _paired_layer
  /// True when the conv's kernel adds the mixin in its own pass (Conv1D::can_add_mixin) and no FiLM comes
  /// between them (on the conv output, the mixin input or the mixin output).
  bool _mixin_in_conv_pass = false;
};

/// \brief A rechannel, a stack of layers sharing one condition, and the head rechannel that turns the sum of
/// their head outputs (plus the previous array's head output) into this array's head output.
class LayerArray {
public:
  explicit LayerArray(const LayerArrayParams& params);

  static long long count_weights(const LayerArrayParams& params);

  void SetMaxBufferSize(const int maxBufferSize);
  void set_weights_(std::vector<float>::iterator& weights);

  /// \brief `head_input` is the previous array's head output, or nullptr for the first array.
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& layer_inputs,
               const Eigen::Ref<const Eigen::MatrixXf>& condition, const Eigen::MatrixXf* head_input,
               const int num_frames);

  /// \brief Residual output of the last layer (channels rows).
  Eigen::MatrixXf& GetOutputNextLayer() { return _layers.back().GetOutputNextLayer(); }
  /// \brief Head rechannel output (head_size rows).
  Eigen::MatrixXf& GetOutputHead() { return _head_rechannel.GetOutput(); }

  /// \brief Past frames this array reads: its layers' plus its head rechannel's.
  long get_receptive_field() const;

  /// \brief Calls `f(conv)` for every Conv1D (they hold all of the array's state).
  template <class F>
  void for_each_conv(F&& f) {
    for (auto& layer : _layers)
      f(layer.conv());
    f(_head_rechannel);
  }

private:
  Conv1x1 _rechannel;
  std::vector<Layer> _layers;
  Conv1D _head_rechannel;
  Eigen::MatrixXf _head_sum;
};

/// \brief Post-stack head: `activation -> conv` repeated once per kernel size (dilation 1, with bias).
class Head {
public:
  explicit Head(const HeadParams& params);

  static long long count_weights(const HeadParams& params);

  void SetMaxBufferSize(const int maxBufferSize);
  void set_weights_(std::vector<float>::iterator& weights);
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames);
  Eigen::MatrixXf& GetOutput() { return _convs.back().GetOutput(); }

  /// \brief 1 + sum of (kernel_size - 1).
  long receptive_field() const;

  template <class F>
  void for_each_conv(F&& f) {
    for (auto& conv : _convs)
      f(conv);
  }

private:
  activations::Activation::Ptr _activation;
  std::vector<Conv1D> _convs;
  std::vector<Eigen::MatrixXf> _activated; // the input of each conv, after the activation
};

} // namespace detail
} // namespace wavenet
} // namespace nam
