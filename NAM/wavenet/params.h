#pragma once
/// \file params.h
/// \brief The shape of a WaveNet, as read from its config: per layer, per layer array and post-stack head.

#include <stdexcept>
#include <string>
#include <vector>

#include "../activations.h"

namespace nam {
namespace wavenet {

/// \brief How a layer combines the two halves of its doubled convolution output (or does not double it).
enum class GatingMode { NONE, GATED, BLENDED };

/// \brief The legacy `gated` flag as a GatingMode.
inline GatingMode gating_mode_from_bool(bool gated) {
  return gated ? GatingMode::GATED : GatingMode::NONE;
}

/// \brief Optional 1x1 convolution from a layer's activation to its head output.
struct Head1x1Params {
  /// \brief Sets the three fields.
  Head1x1Params(bool active_, int out_channels_, int groups_) :
      active(active_),
      out_channels(out_channels_),
      groups(groups_) {}
  bool active;      ///< without it, the activation itself (B rows) is the head output
  int out_channels; ///< rows of the head output
  int groups;       ///< channel groups of the convolution
};

/// \brief The 1x1 convolution from a layer's activation back to its residual channels.
struct Layer1x1Params {
  /// \brief Sets the two fields.
  Layer1x1Params(bool active_, int groups_) : active(active_), groups(groups_) {}
  bool active; ///< without it, the layer passes its input on unchanged and bottleneck must equal channels
  int groups;  ///< channel groups of the convolution
};

/// \brief One FiLM placement: whether it exists, whether it also shifts, and its groups.
struct _FiLMParams {
  /// \brief Sets the three fields.
  _FiLMParams(bool active_, bool shift_, int groups_ = 1) : active(active_), shift(shift_), groups(groups_) {}
  bool active; ///< whether this FiLM exists
  bool shift;  ///< whether it adds an offset as well as scaling (see FiLM)
  int groups;  ///< channel groups of its Conv1x1
};

/// \brief The eight places a layer can have a FiLM. The order is the order of their weights in the file.
enum class FilmSite {
  conv_input,        ///< the layer input, before the dilated convolution
  conv_output,       ///< the convolution output, before the mixin is added
  mixin_input,       ///< the condition, before the input mixin
  mixin_output,      ///< the input mixin output
  activation_input,  ///< convolution + mixin, before the activation
  activation_output, ///< the activation output
  layer1x1_output,   ///< the layer1x1 output (applied in blended layers only)
  head1x1_output     ///< the head1x1 output
};
/// \brief Number of FilmSite values.
inline constexpr int kFilmSiteCount = 8;
/// \brief The layer-array config key of each FilmSite.
inline constexpr const char* kFilmConfigKeys[kFilmSiteCount] = {
    "conv_pre_film",       "conv_post_film",       "input_mixin_pre_film", "input_mixin_post_film",
    "activation_pre_film", "activation_post_film", "layer1x1_post_film",   "head1x1_post_film"};

/// \brief The FiLM settings of the eight sites of a layer, under their config names. LayerParams (one layer)
/// and LayerArrayParams (every layer of an array) both have them.
struct FilmSites {
  /// \brief Sets the eight sites, in FilmSite order.
  FilmSites(const _FiLMParams& convInput, const _FiLMParams& convOutput, const _FiLMParams& mixinInput,
            const _FiLMParams& mixinOutput, const _FiLMParams& activationInput,
            const _FiLMParams& activationOutput, const _FiLMParams& layer1x1Output,
            const _FiLMParams& head1x1Output);

  _FiLMParams conv_pre_film_params;         ///< on the layer input, before the dilated convolution
  _FiLMParams conv_post_film_params;        ///< on the convolution output, before the mixin is added
  _FiLMParams input_mixin_pre_film_params;  ///< on the condition, before the input mixin
  _FiLMParams input_mixin_post_film_params; ///< on the input mixin output
  _FiLMParams activation_pre_film_params;   ///< on convolution + mixin, before the activation
  _FiLMParams activation_post_film_params;  ///< on the activation output
  _FiLMParams _layer1x1_post_film_params;   ///< on the layer1x1 output; applied in blended layers only
  _FiLMParams head1x1_post_film_params;     ///< on the head1x1 output

  /// \brief The settings at `site`.
  const _FiLMParams& film(FilmSite site) const;
};

/// \brief Everything one layer needs to be built.
struct LayerParams : FilmSites {
  /// \brief Sets every field, in the order they are declared.
  LayerParams(int conditionSize, int channelCount, int bottleneckWidth, int kernelSize, int dilationFactor,
              const activations::ActivationConfig& activation, GatingMode gating, int convGroups,
              int mixinGroups, const Layer1x1Params& layer1x1, const Head1x1Params& head1x1,
              const activations::ActivationConfig& secondaryActivation, const _FiLMParams& convInputFilm,
              const _FiLMParams& convOutputFilm, const _FiLMParams& mixinInputFilm,
              const _FiLMParams& mixinOutputFilm, const _FiLMParams& activationInputFilm,
              const _FiLMParams& activationOutputFilm, const _FiLMParams& layer1x1OutputFilm,
              const _FiLMParams& head1x1OutputFilm);

  int condition_size;                                        ///< rows of the condition
  int channels;                                              ///< residual width C
  int bottleneck;                                            ///< activation width B
  int kernel_size;                                           ///< taps of the dilated convolution
  int dilation;                                              ///< frames between its taps
  activations::ActivationConfig activation_config;           ///< the (primary) activation
  GatingMode gating_mode;                                    ///< how the activation combines the two halves
  int groups_input;                                          ///< channel groups of the dilated convolution
  int groups_input_mixin;                                    ///< channel groups of the input mixin
  Layer1x1Params layer1x1_params;                            ///< activation -> residual 1x1
  Head1x1Params head1x1_params;                              ///< activation -> head output 1x1
  activations::ActivationConfig secondary_activation_config; ///< used by gated and blended layers only
  /// \brief Rows of the convolution and input-mixin outputs: 2B for gated and blended layers, else B.
  int doubled_width() const { return gating_mode == GatingMode::NONE ? bottleneck : 2 * bottleneck; }
  /// \brief Rows this layer adds to its array's head accumulator.
  int head_width() const { return head1x1_params.active ? head1x1_params.out_channels : bottleneck; }
  /// \brief Rows of the signal the FiLM at `site` modulates.
  int film_width(FilmSite site) const;
};

/// \brief Everything one layer array needs to be built. Per-layer lists all have one entry per layer.
class LayerArrayParams : public FilmSites {
public:
  /// Throws std::invalid_argument when the lists are empty or their lengths disagree, or when
  /// head_kernel_size < 1.
  LayerArrayParams(int inputSize, int conditionSize, int headSize, int headDilation, int headKernelSize,
                   int channelCount, int bottleneckWidth, std::vector<int> kernelSizes,
                   std::vector<int> layerDilations, std::vector<activations::ActivationConfig> activations,
                   std::vector<GatingMode> gatings, bool headBias, int convGroups, int mixinGroups,
                   const Layer1x1Params& layer1x1, const Head1x1Params& head1x1,
                   std::vector<activations::ActivationConfig> secondaryActivations,
                   const _FiLMParams& convInputFilm, const _FiLMParams& convOutputFilm,
                   const _FiLMParams& mixinInputFilm, const _FiLMParams& mixinOutputFilm,
                   const _FiLMParams& activationInputFilm, const _FiLMParams& activationOutputFilm,
                   const _FiLMParams& layer1x1OutputFilm, const _FiLMParams& head1x1OutputFilm);

  int input_size;       ///< rows of the array input: the model input, or the previous array's residual
  int condition_size;   ///< rows of the condition (the condition model's output, else the model input)
  int head_size;        ///< rows of the array's head output (the head rechannel's outputs)
  int head_dilation;    ///< dilation of the head rechannel
  int head_kernel_size; ///< taps of the head rechannel (>= 1)
  int channels;         ///< residual width C of every layer
  int bottleneck;       ///< activation width B of every layer
  std::vector<int> kernel_sizes; ///< per layer: taps of the dilated convolution
  std::vector<int> dilations;    ///< per layer: dilation (its length is the number of layers)
  std::vector<activations::ActivationConfig> activation_configs; ///< per layer: primary activation
  std::vector<GatingMode> gating_modes;                          ///< per layer
  bool head_bias;                                                ///< whether the head rechannel has a bias
  int groups_input;               ///< channel groups of every dilated convolution
  int groups_input_mixin;         ///< channel groups of every input mixin
  Layer1x1Params layer1x1_params; ///< of every layer
  Head1x1Params head1x1_params;   ///< of every layer
  /// Per layer: the gate (gated) or alpha (blended) activation; unused for GatingMode::NONE.
  std::vector<activations::ActivationConfig> secondary_activation_configs;

  /// \brief Number of layers (entries of dilations).
  int num_layers() const { return static_cast<int>(dilations.size()); }
  /// \brief The parameters of layer `l`.
  LayerParams layer(int l) const;
  /// \brief Input rows of the head rechannel: head1x1.out_channels when head1x1 is active, else bottleneck.
  int head_input_size() const { return head1x1_params.active ? head1x1_params.out_channels : bottleneck; }
};

/// \brief The optional convolutions after the last layer array ("post-stack head").
struct HeadParams {
  int in_channels;                                 ///< the last array's head size
  int channels;                                    ///< width between the convolutions
  int out_channels;                                ///< the model's output channels
  std::vector<int> kernel_sizes;                   ///< one convolution (dilation 1, with bias) per entry
  activations::ActivationConfig activation_config; ///< applied before every convolution
};

} // namespace wavenet
} // namespace nam
