#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../builtin_architectures.h"
#include "../compiler.h"
#include "../config_reader.h"
#include "../get_dsp.h"
#include "../kernels/target_regions.h"
#include "../resource_limits.h"
#include "a2_fast.h"
#include "model.h"
#include "slimmable.h"

// ------------------------------------------------------------------- head sums per instruction set

namespace nam {
namespace wavenet {
namespace detail {
// A layer array adds every layer's head output into its head sum; as an Eigen expression in this portable
// file that loop would run at the baseline vector width, so each instruction set's region compiles its own.
#define NAM_DEFINE_ADD_INTO                                                                                  \
  void add_into(float* NAM_RESTRICT sum, const float* NAM_RESTRICT values, const long count) {               \
    for (long i = 0; i < count; ++i)                                                                         \
      sum[i] += values[i];                                                                                   \
  }
namespace baseline {
NAM_DEFINE_ADD_INTO
} // namespace baseline
#if NAM_KERNELS_X86
NAM_TARGET_REGION_AVX2
namespace avx2 {
NAM_DEFINE_ADD_INTO
} // namespace avx2
NAM_TARGET_REGION_END
NAM_TARGET_REGION_AVX512
namespace avx512 {
NAM_DEFINE_ADD_INTO
} // namespace avx512
NAM_TARGET_REGION_END
#endif
#undef NAM_DEFINE_ADD_INTO

namespace {
/// sum[i] += values[i] for i < count, at the selected instruction set (the arrays must not overlap).
void add_into(float* sum, const float* values, const long count) {
  NAM_CALL_FOR_SELECTED_ISA(add_into, sum, values, count)
}
} // namespace
} // namespace detail
} // namespace wavenet
} // namespace nam

namespace nam {
namespace wavenet {

namespace {

std::string mismatch_text(const char* what, size_t got, size_t layers) {
  return std::string("LayerArrayParams: ") + what + " size (" + std::to_string(got) +
         ") must match dilations size (" + std::to_string(layers) + ")";
}

// Activation objects for a config; parameterless types share the registered instance so that the fast
// tanh and lookup-table switches reach them.
activations::Activation::Ptr make_activation(const activations::ActivationConfig& config) {
  return activations::Activation::get_activation(config);
}

FilmSite film_site(const int index) {
  return static_cast<FilmSite>(index);
}

template <class Module>
void size_if_present(std::optional<Module>& module, const int maxBufferSize) {
  if (module)
    module->SetMaxBufferSize(maxBufferSize);
}

template <class Module>
void read_if_present(std::optional<Module>& module, std::vector<float>::iterator& weights) {
  if (module)
    module->set_weights_(weights);
}

} // namespace

// ----------------------------------------------------------------------------------------- parameters

FilmSites::FilmSites(const _FiLMParams& convInput, const _FiLMParams& convOutput,
                     const _FiLMParams& mixinInput, const _FiLMParams& mixinOutput,
                     const _FiLMParams& activationInput, const _FiLMParams& activationOutput,
                     const _FiLMParams& layer1x1Output, const _FiLMParams& head1x1Output) :
    conv_pre_film_params(convInput),
    conv_post_film_params(convOutput),
    input_mixin_pre_film_params(mixinInput),
    input_mixin_post_film_params(mixinOutput),
    activation_pre_film_params(activationInput),
    activation_post_film_params(activationOutput),
    _layer1x1_post_film_params(layer1x1Output),
    head1x1_post_film_params(head1x1Output) {}

const _FiLMParams& FilmSites::film(const FilmSite site) const {
  static constexpr _FiLMParams FilmSites::*kBySite[kFilmSiteCount] = {
      &FilmSites::conv_pre_film_params,        &FilmSites::conv_post_film_params,
      &FilmSites::input_mixin_pre_film_params, &FilmSites::input_mixin_post_film_params,
      &FilmSites::activation_pre_film_params,  &FilmSites::activation_post_film_params,
      &FilmSites::_layer1x1_post_film_params,  &FilmSites::head1x1_post_film_params};
  return this->*kBySite[static_cast<int>(site)];
}

LayerParams::LayerParams(int conditionSize, int channelCount, int bottleneckWidth, int kernelSize,
                         int dilationFactor, const activations::ActivationConfig& activation,
                         GatingMode gating, int convGroups, int mixinGroups, const Layer1x1Params& layer1x1,
                         const Head1x1Params& head1x1,
                         const activations::ActivationConfig& secondaryActivation,
                         const _FiLMParams& convInputFilm, const _FiLMParams& convOutputFilm,
                         const _FiLMParams& mixinInputFilm, const _FiLMParams& mixinOutputFilm,
                         const _FiLMParams& activationInputFilm, const _FiLMParams& activationOutputFilm,
                         const _FiLMParams& layer1x1OutputFilm, const _FiLMParams& head1x1OutputFilm) :
    FilmSites(convInputFilm, convOutputFilm, mixinInputFilm, mixinOutputFilm, activationInputFilm,
              activationOutputFilm, layer1x1OutputFilm, head1x1OutputFilm),
    condition_size(conditionSize),
    channels(channelCount),
    bottleneck(bottleneckWidth),
    kernel_size(kernelSize),
    dilation(dilationFactor),
    activation_config(activation),
    gating_mode(gating),
    groups_input(convGroups),
    groups_input_mixin(mixinGroups),
    layer1x1_params(layer1x1),
    head1x1_params(head1x1),
    secondary_activation_config(secondaryActivation) {}

int LayerParams::film_width(const FilmSite site) const {
  switch (site) {
  case FilmSite::conv_input:
  case FilmSite::layer1x1_output:
    return channels;
  case FilmSite::mixin_input:
    return condition_size;
  case FilmSite::activation_output:
    return bottleneck;
  case FilmSite::head1x1_output:
    return head_width();
  case FilmSite::conv_output:
  case FilmSite::mixin_output:
  case FilmSite::activation_input:
    break;
  }
  return doubled_width();
}

LayerArrayParams::LayerArrayParams(
    int inputSize, int conditionSize, int headSize, int headDilation, int headKernelSize, int channelCount,
    int bottleneckWidth, std::vector<int> kernelSizes, std::vector<int> layerDilations,
    std::vector<activations::ActivationConfig> activations, std::vector<GatingMode> gatings, bool headBias,
    int convGroups, int mixinGroups, const Layer1x1Params& layer1x1, const Head1x1Params& head1x1,
    std::vector<activations::ActivationConfig> secondaryActivations, const _FiLMParams& convInputFilm,
    const _FiLMParams& convOutputFilm, const _FiLMParams& mixinInputFilm, const _FiLMParams& mixinOutputFilm,
    const _FiLMParams& activationInputFilm, const _FiLMParams& activationOutputFilm,
    const _FiLMParams& layer1x1OutputFilm, const _FiLMParams& head1x1OutputFilm) :
    FilmSites(convInputFilm, convOutputFilm, mixinInputFilm, mixinOutputFilm, activationInputFilm,
              activationOutputFilm, layer1x1OutputFilm, head1x1OutputFilm),
    input_size(inputSize),
    condition_size(conditionSize),
    head_size(headSize),
    head_dilation(headDilation),
    head_kernel_size(headKernelSize),
    channels(channelCount),
    bottleneck(bottleneckWidth),
    kernel_sizes(std::move(kernelSizes)),
    dilations(std::move(layerDilations)),
    activation_configs(std::move(activations)),
    gating_modes(std::move(gatings)),
    head_bias(headBias),
    groups_input(convGroups),
    groups_input_mixin(mixinGroups),
    layer1x1_params(layer1x1),
    head1x1_params(head1x1),
    secondary_activation_configs(std::move(secondaryActivations)) {
  if (head_kernel_size < 1)
    throw std::invalid_argument("LayerArrayParams: head_kernel_size must be >= 1");
  if (kernel_sizes.empty())
    throw std::invalid_argument("LayerArrayParams: kernel_sizes must not be empty");
  const size_t layers = dilations.size();
  if (kernel_sizes.size() != layers)
    throw std::invalid_argument("LayerArrayParams: dilations size (" + std::to_string(layers) +
                                ") must match kernel_sizes size (" + std::to_string(kernel_sizes.size()) +
                                ")");
  if (activation_configs.size() != layers)
    throw std::invalid_argument(mismatch_text("activation_configs", activation_configs.size(), layers));
  if (gating_modes.size() != layers)
    throw std::invalid_argument(mismatch_text("gating_modes", gating_modes.size(), layers));
  if (secondary_activation_configs.size() != layers)
    throw std::invalid_argument(
        mismatch_text("secondary_activation_configs", secondary_activation_configs.size(), layers));
  if (_layer1x1_post_film_params.active && !layer1x1_params.active)
    throw std::invalid_argument("layer1x1_post_film cannot be active when layer1x1 is not active");
}

LayerParams LayerArrayParams::layer(const int l) const {
  return LayerParams(
      condition_size, channels, bottleneck, kernel_sizes[l], dilations[l], activation_configs[l],
      gating_modes[l], groups_input, groups_input_mixin, layer1x1_params, head1x1_params,
      secondary_activation_configs[l], film(FilmSite::conv_input), film(FilmSite::conv_output),
      film(FilmSite::mixin_input), film(FilmSite::mixin_output), film(FilmSite::activation_input),
      film(FilmSite::activation_output), film(FilmSite::layer1x1_output), film(FilmSite::head1x1_output));
}

namespace detail {

// ------------------------------------------------------------------------------------------------ Layer

Layer::Layer(const LayerParams& p) :
    _gating_mode(p.gating_mode),
    _conv(p.channels, p.doubled_width(), p.kernel_size, true, p.dilation, p.groups_input),
    _input_mixin(p.condition_size, p.doubled_width(), false, p.groups_input_mixin),
    _primary(make_activation(p.activation_config)) {
  check(p);
  if (p.layer1x1_params.active)
    _layer1x1.emplace(p.bottleneck, p.channels, true, p.layer1x1_params.groups);
  if (p.head1x1_params.active)
    _head1x1.emplace(p.bottleneck, p.head1x1_params.out_channels, true, p.head1x1_params.groups);
  if (p.gating_mode == GatingMode::GATED)
    _gating.emplace(_primary, make_activation(p.secondary_activation_config), p.bottleneck);
  else if (p.gating_mode == GatingMode::BLENDED)
    _blending.emplace(_primary, make_activation(p.secondary_activation_config), p.bottleneck);
  for (int i = 0; i < kFilmSiteCount; ++i) {
    const _FiLMParams& settings = p.film(film_site(i));
    if (settings.active)
      _films[i].emplace(p.condition_size, p.film_width(film_site(i)), settings.shift, settings.groups);
  }
  _mixin_in_conv_pass = !film(FilmSite::conv_output) && !film(FilmSite::mixin_input) &&
                        !film(FilmSite::mixin_output) && _conv.can_add_mixin(_input_mixin);
  // A layer that is nothing but convolution, mixin, activation and layer1x1 may run as one kernel, where one
  // serves its width and activation at this instruction set: narrow ones with fast tanh
  // (kernels/narrow_layer.h), those of half a vector with LeakyReLU or fast tanh (kernels/paired_layer.h).
  bool plain = p.gating_mode == GatingMode::NONE && p.layer1x1_params.active &&
               p.layer1x1_params.groups == 1 && !p.head1x1_params.active && p.bottleneck == p.channels &&
               p.groups_input == 1 && p.condition_size == 1 && p.groups_input_mixin == 1;
  for (const auto& film : _films)
    plain = plain && !film;
  if (!plain)
    return;
  const bool fast_tanh = dynamic_cast<const activations::ActivationFastTanh*>(_primary.get()) != nullptr;
  const auto* leaky_relu = dynamic_cast<const activations::ActivationLeakyReLU*>(_primary.get());
  // The paired kernel reads the weights its convolutions packed for their own kernels.
  const bool may_pair = (leaky_relu || fast_tanh) && _mixin_in_conv_pass && _layer1x1->packed_weights();
  if (fast_tanh)
    _narrow_layer = kernels::pick_narrow_layer_kernel(p.channels, !may_pair);
  if (may_pair && !_narrow_layer) {
    _paired_layer = kernels::pick_paired_layer_kernel(p.channels);
    _paired_activation =
        fast_tanh ? kernels::PairedActivation::fast_tanh : kernels::PairedActivation::leaky_relu;
    _negative_slope = leaky_relu ? leaky_relu->negative_slope() : 0.0f;
  }
}

void Layer::check(const LayerParams& p) {
  if (!p.layer1x1_params.active && p.bottleneck != p.channels)
    throw std::invalid_argument("When layer1x1.active is false, bottleneck (" + std::to_string(p.bottleneck) +
                                ") must equal channels (" + std::to_string(p.channels) + ")");
  if (p.head1x1_post_film_params.active && !p.head1x1_params.active)
    throw std::invalid_argument("Do not use post-head 1x1 FiLM if there is no head 1x1");
  if (p.gating_mode != GatingMode::NONE && p.bottleneck <= 0)
    throw std::invalid_argument("GatingActivation: number of input channels must be positive");
  const int z = p.doubled_width();
  check_conv_groups(p.channels, z, p.groups_input);
  check_conv_groups(p.condition_size, z, p.groups_input_mixin);
  if (p.layer1x1_params.active)
    check_conv_groups(p.bottleneck, p.channels, p.layer1x1_params.groups);
  if (p.head1x1_params.active)
    check_conv_groups(p.bottleneck, p.head1x1_params.out_channels, p.head1x1_params.groups);
  for (int i = 0; i < kFilmSiteCount; ++i) {
    const _FiLMParams& settings = p.film(film_site(i));
    if (settings.active)
      check_conv_groups(p.condition_size, (settings.shift ? 2 : 1) * p.film_width(film_site(i)),
                        settings.groups);
  }
}

long long Layer::count_weights(const LayerParams& p) {
  const long long z = p.doubled_width();
  const long long dc = p.condition_size;
  long long total = Conv1D::count_weights(p.channels, z, p.kernel_size, true, p.groups_input) +
                    Conv1x1::count_weights(dc, z, false, p.groups_input_mixin);
  if (p.layer1x1_params.active)
    total += Conv1x1::count_weights(p.bottleneck, p.channels, true, p.layer1x1_params.groups);
  if (p.head1x1_params.active)
    total +=
        Conv1x1::count_weights(p.bottleneck, p.head1x1_params.out_channels, true, p.head1x1_params.groups);
  for (int i = 0; i < kFilmSiteCount; ++i) {
    const _FiLMParams& settings = p.film(film_site(i));
    if (settings.active)
      total += FiLM::count_weights(dc, p.film_width(film_site(i)), settings.shift, settings.groups);
  }
  return total;
}

void Layer::SetMaxBufferSize(const int maxBufferSize) {
  _conv.SetMaxBufferSize(maxBufferSize);
  _input_mixin.SetMaxBufferSize(maxBufferSize);
  size_if_present(_layer1x1, maxBufferSize);
  size_if_present(_head1x1, maxBufferSize);
  for (auto& film : _films)
    size_if_present(film, maxBufferSize);
  _activation.setZero(_gating_mode == GatingMode::NONE ? 0 : _conv.get_out_channels() / 2, maxBufferSize);
  _output_next_layer.setZero(_conv.get_in_channels(), maxBufferSize);
}

void Layer::set_weights_(std::vector<float>::iterator& weights) {
  _conv.set_weights_(weights);
  _input_mixin.set_weights_(weights);
  read_if_present(_layer1x1, weights);
  read_if_present(_head1x1, weights);
  for (auto& film : _films) // in FilmSite order, which is the file's order
    read_if_present(film, weights);
  if (_narrow_layer)
    pack_narrow_layer();
}

void Layer::pack_narrow_layer() {
  const int channels = static_cast<int>(_conv.get_out_channels());
  const kernels::NarrowLayerLayout layout{channels, static_cast<int>(_conv.get_kernel_size())};
  _narrow_layer_weights.assign(layout.size(), 0.0f);
  float* packed = _narrow_layer_weights.data();
  const auto repeat = [&](const long at, const auto& value) {
    kernels::repeat_channels(packed + at, channels, value);
  };
  for (int k = 0; k < layout.taps; ++k)
    for (int j = 0; j < channels; ++j)
      repeat(layout.tap_column(k, j), [&](const int o) { return _conv.get_tap_weight(k)(o, j); });
  repeat(layout.conv_bias(), [&](const int o) { return _conv.has_bias() ? _conv.get_bias()(o) : 0.0f; });
  repeat(layout.mixin(), [&](const int o) { return _input_mixin.get_weight()(o, 0); });
  for (int j = 0; j < channels; ++j)
    repeat(layout.layer1x1_column(j), [&](const int o) { return _layer1x1->get_weight()(o, j); });
  repeat(layout.layer1x1_bias(), [&](const int o) { return _layer1x1->get_bias()(o); });
}

bool Layer::process_in_one_pass(const Eigen::Ref<const Eigen::MatrixXf>& input,
                                const Eigen::Ref<const Eigen::MatrixXf>& condition, const int n,
                                Eigen::Ref<Eigen::MatrixXf>& output_next_layer, float* head_sum) {
  const int frames = _narrow_layer ? _narrow_layer->frames : _paired_layer ? _paired_layer->frames : 0;
  if (frames == 0 || n % frames != 0 || condition.outerStride() != 1 ||
      output_next_layer.outerStride() != output_next_layer.rows())
    return false;
  const float* oldest_tap = _conv.consume_input(input, n);
  const int taps = static_cast<int>(_conv.get_kernel_size());
  const long tap_offset = static_cast<long>(_conv.get_dilation()) * _conv.get_in_channels();
  if (_narrow_layer) {
    _narrow_layer->fn(_narrow_layer_weights.data(), taps, tap_offset, oldest_tap, condition.data(), head_sum,
                      output_next_layer.data(), n);
  } else {
    const kernels::PairedLayerWeights weights{_conv.packed_weights(),
                                              _conv.packed_bias(),
                                              _input_mixin.packed_weights(),
                                              _input_mixin.packed_bias(),
                                              _layer1x1->packed_weights(),
                                              _layer1x1->packed_bias(),
                                              _negative_slope,
                                              _paired_activation};
    _paired_layer->fn(weights, taps, tap_offset, oldest_tap, condition.data(), head_sum,
                      output_next_layer.data(), n);
  }
  return true;
}

void Layer::add_mixin_after_conv(const Eigen::Ref<const Eigen::MatrixXf>& condition, const int n) {
  Eigen::MatrixXf& conv_output = _conv.GetOutput();
  if (FiLM* f = film(FilmSite::conv_output))
    f->Process_(conv_output, condition, n);
  // The mixin's kernel writes the sum in one pass, unless a FiLM must modulate its product first.
  const auto add_mixin = [&](const Eigen::Ref<const Eigen::MatrixXf>& mixin_input) {
    if (FiLM* f = film(FilmSite::mixin_output)) {
      _input_mixin.process_(mixin_input, n);
      f->Process_(_input_mixin.GetOutput(), condition, n);
      conv_output.leftCols(n) += _input_mixin.GetOutput().leftCols(n);
    } else {
      _input_mixin.process_plus_(mixin_input, conv_output, _input_mixin.GetOutput(), n);
    }
  };
  if (FiLM* f = film(FilmSite::mixin_input)) {
    f->Process(condition, condition, n);
    add_mixin(f->GetOutput());
  } else {
    add_mixin(condition);
  }
}

void Layer::Process(const Eigen::Ref<const Eigen::MatrixXf>& input,
                    const Eigen::Ref<const Eigen::MatrixXf>& condition, const int num_frames,
                    Eigen::Ref<Eigen::MatrixXf> output_next_layer, float* head_sum) {
  const int n = num_frames;
  if (process_in_one_pass(input, condition, n, output_next_layer, head_sum))
    return;
  // A FiLM on an input writes a modulated copy; one on an output modulates it in place.
  const auto modulate_in_place = [&](const FilmSite site, Eigen::MatrixXf& signal) {
    if (FiLM* f = film(site))
      f->Process_(signal, condition, n);
  };
  // z = conv output + mixin: in the conv's own pass where it can (_mixin_in_conv_pass) and the condition is
  // contiguous, else in a pass of its own (add_mixin_after_conv).
  const bool mixin_in_conv_pass = _mixin_in_conv_pass && condition.outerStride() == 1;
  const auto convolve = [&](const Eigen::Ref<const Eigen::MatrixXf>& conv_input) {
    if (mixin_in_conv_pass)
      _conv.process_plus_mixin_(conv_input, n, _input_mixin, condition.data(), _input_mixin.GetOutput());
    else
      _conv.Process(conv_input, n);
  };
  if (FiLM* f = film(FilmSite::conv_input)) {
    f->Process(input, condition, n);
    convolve(f->GetOutput());
  } else {
    convolve(input);
  }
  if (!mixin_in_conv_pass)
    add_mixin_after_conv(condition, n);
  Eigen::MatrixXf& z = this->z();
  modulate_in_place(FilmSite::activation_input, z);

  bool head_added = false;
  if (_gating) {
    _gating->apply(z, _activation, n);
  } else if (_blending) {
    _blending->apply(z, _activation, n);
  } else {
    // Where the activated z is the head output as it stands, the activation's loop adds it to the head sum.
    const long size = static_cast<long>(z.rows()) * n; // the first n columns are contiguous
    const bool z_is_head_output = !_head1x1 && !film(FilmSite::activation_output);
    head_added = z_is_head_output && _primary->apply_adding_to(z.data(), size, head_sum);
    if (!head_added)
      _primary->apply(z.data(), size);
  }
  Eigen::MatrixXf& activated = activation_output();
  modulate_in_place(FilmSite::activation_output, activated);

  if (_layer1x1) {
    // As in the original, this FiLM only takes effect in blended layers (its weights are read regardless).
    FiLM* output_film = _blending ? film(FilmSite::layer1x1_output) : nullptr;
    if (output_film) {
      _layer1x1->process_(activated, n);
      output_film->Process_(_layer1x1->GetOutput(), condition, n);
      output_next_layer.leftCols(n) = input.leftCols(n) + _layer1x1->GetOutput().leftCols(n);
    } else {
      _layer1x1->process_plus_(activated, input, output_next_layer, n);
    }
  } else {
    output_next_layer.leftCols(n) = input.leftCols(n);
  }

  if (_head1x1) {
    _head1x1->process_(activated, n);
    modulate_in_place(FilmSite::head1x1_output, _head1x1->GetOutput());
  }
  if (!head_added) {
    Eigen::MatrixXf& head = GetOutputHead();
    add_into(head_sum, head.data(), static_cast<long>(head.rows()) * n);
  }
}

// ------------------------------------------------------------------------------------------- LayerArray

LayerArray::LayerArray(const LayerArrayParams& p) :
    _rechannel(p.input_size, p.channels, false),
    _head_rechannel(p.head_input_size(), p.head_size, p.head_kernel_size, p.head_bias, p.head_dilation) {
  _layers.reserve(p.num_layers());
  for (int l = 0; l < p.num_layers(); ++l)
    _layers.emplace_back(p.layer(l));
}

long long LayerArray::count_weights(const LayerArrayParams& p) {
  long long total = Conv1x1::count_weights(p.input_size, p.channels, false, 1);
  for (int l = 0; l < p.num_layers(); ++l)
    total += Layer::count_weights(p.layer(l));
  return total + Conv1D::count_weights(p.head_input_size(), p.head_size, p.head_kernel_size, p.head_bias, 1);
}

void LayerArray::SetMaxBufferSize(const int maxBufferSize) {
  _rechannel.SetMaxBufferSize(maxBufferSize);
  for (auto& layer : _layers)
    layer.SetMaxBufferSize(maxBufferSize);
  _head_rechannel.SetMaxBufferSize(maxBufferSize);
  _head_sum.setZero(_head_rechannel.get_in_channels(), maxBufferSize);
}

void LayerArray::set_weights_(std::vector<float>::iterator& weights) {
  _rechannel.set_weights_(weights);
  for (auto& layer : _layers)
    layer.set_weights_(weights);
  _head_rechannel.set_weights_(weights);
}

void LayerArray::Process(const Eigen::Ref<const Eigen::MatrixXf>& layer_inputs,
                         const Eigen::Ref<const Eigen::MatrixXf>& condition,
                         const Eigen::MatrixXf* head_input, const int num_frames) {
  const int n = num_frames;
  const long channels = _rechannel.get_out_channels();
  // Each step writes its residual output where the next layer's convolution keeps its input
  // (Layer::input_block), which then copies nothing, or else (after the last layer, before a conv-input FiLM)
  // into its own output matrix; either holds `channels` contiguous floats per frame.
  const auto residual_place = [&](const size_t consumer, Eigen::MatrixXf& own_output) {
    float* block = consumer < _layers.size() ? _layers[consumer].input_block(n) : nullptr;
    return block ? block : own_output.data();
  };
  float* residual = residual_place(0, _rechannel.GetOutput());
  Eigen::Map<Eigen::MatrixXf> rechanneled(residual, channels, n);
  _rechannel.process_into_(layer_inputs, rechanneled, n);
  if (head_input)
    _head_sum.leftCols(n) = head_input->leftCols(n);
  else
    _head_sum.leftCols(n).setZero();
  for (size_t l = 0; l < _layers.size(); ++l) {
    Layer& layer = _layers[l];
    float* next = residual_place(l + 1, layer.GetOutputNextLayer());
    Eigen::Map<Eigen::MatrixXf> output(next, channels, n);
    layer.Process(Eigen::Map<const Eigen::MatrixXf>(residual, channels, n), condition, n, output,
                  _head_sum.data());
    residual = next;
  }
  _head_rechannel.Process(_head_sum, n);
}

long LayerArray::get_receptive_field() const {
  long total = static_cast<long>(_head_rechannel.get_kernel_size() - 1) * _head_rechannel.get_dilation();
  for (const auto& layer : _layers)
    total += layer.get_receptive_field();
  return total;
}

// ------------------------------------------------------------------------------------------------- Head

Head::Head(const HeadParams& p) : _activation(make_activation(p.activation_config)) {
  if (p.kernel_sizes.empty())
    throw std::runtime_error("WaveNet Head: kernel_sizes must be non-empty");
  for (const int k : p.kernel_sizes)
    if (k < 1)
      throw std::runtime_error("WaveNet Head: kernel_sizes entries must be >= 1");
  const size_t count = p.kernel_sizes.size();
  for (size_t i = 0; i < count; ++i) {
    const int in = i == 0 ? p.in_channels : p.channels;
    const int out = i + 1 == count ? p.out_channels : p.channels;
    _convs.emplace_back(in, out, p.kernel_sizes[i], true, 1);
  }
  _activated.resize(count);
}

long long Head::count_weights(const HeadParams& p) {
  long long total = 0;
  const size_t count = p.kernel_sizes.size();
  for (size_t i = 0; i < count; ++i)
    total += Conv1D::count_weights(i == 0 ? p.in_channels : p.channels,
                                   i + 1 == count ? p.out_channels : p.channels, p.kernel_sizes[i], true, 1);
  return total;
}

void Head::SetMaxBufferSize(const int maxBufferSize) {
  for (size_t i = 0; i < _convs.size(); ++i) {
    _convs[i].SetMaxBufferSize(maxBufferSize);
    _activated[i].setZero(_convs[i].get_in_channels(), maxBufferSize);
  }
}

void Head::set_weights_(std::vector<float>::iterator& weights) {
  for (auto& conv : _convs)
    conv.set_weights_(weights);
}

void Head::Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames) {
  for (size_t i = 0; i < _convs.size(); ++i) {
    Eigen::MatrixXf& activated = _activated[i];
    if (i == 0)
      activated.leftCols(num_frames) = input.leftCols(num_frames);
    else
      activated.leftCols(num_frames) = _convs[i - 1].GetOutput().leftCols(num_frames);
    _activation->apply(activated.data(), static_cast<long>(activated.rows()) * num_frames);
    _convs[i].Process(activated, num_frames);
  }
}

long Head::receptive_field() const {
  long total = 1;
  for (const auto& conv : _convs)
    total += conv.get_kernel_size() - 1;
  return total;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------- WaveNet

namespace {

// Blocks the model can take before its first Reset (process() then still works, in pieces of this size).
constexpr int kInitialBlockCapacity = 64;

std::string number_text(const double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

void check_weight_count(const std::vector<float>& weights, const long long expected) {
  const long long provided = static_cast<long long>(weights.size());
  if (provided < expected)
    throw std::runtime_error("Weight mismatch: provided " + std::to_string(provided) +
                             " weights, but the model expects more.");
  if (provided > expected) {
    // The original reports the position of the first weight equal to the first unused one.
    const auto first_unused = weights.begin() + expected;
    const auto same_value = std::find(weights.begin(), weights.end(), *first_unused);
    if (same_value == weights.end())
      throw std::runtime_error("Weight mismatch: provided " + std::to_string(provided) +
                               " weights, but the model expects more.");
    throw std::runtime_error("Weight mismatch: assigned " + std::to_string(same_value - weights.begin() + 1) +
                             " weights, but " + std::to_string(provided) + " were provided.");
  }
}

} // namespace

namespace {

// Frames of buffers the memory estimate assumes (the default max buffer size; hosts rarely use more).
constexpr double kEstimateFrames = NAM_DEFAULT_MAX_BUFFER_SIZE;

// Bytes a Conv1D of this shape allocates: dense per-tap weights, history and output.
double conv_bytes(const double in, const double out, const double kernel_size, const double dilation) {
  const double lookback = (kernel_size - 1) * dilation;
  return sizeof(float) *
         (out * in * kernel_size + in * (2 * lookback + 5 * kEstimateFrames) + out * kEstimateFrames);
}

double estimate_bytes(const std::vector<LayerArrayParams>& arrays, const std::optional<HeadParams>& head) {
  double bytes = 0;
  for (const auto& a : arrays) {
    for (int l = 0; l < a.num_layers(); ++l) {
      const LayerParams p = a.layer(l);
      const double z = p.doubled_width();
      bytes += conv_bytes(p.channels, z, p.kernel_size, p.dilation);
      // Mixin, 1x1s and FiLMs are dense too; the activation buffers hold a few rows of each width.
      bytes +=
          sizeof(float) * (z * p.condition_size + 2.0 * p.channels * p.bottleneck +
                           (4 * z + 3 * p.channels + 2 * p.bottleneck + p.head_width()) * kEstimateFrames);
    }
    bytes += conv_bytes(a.head_input_size(), a.head_size, a.head_kernel_size, a.head_dilation);
  }
  if (head)
    for (const int k : head->kernel_sizes)
      bytes += conv_bytes(std::max(head->channels, head->in_channels),
                          std::max(head->channels, head->out_channels), k, 1);
  return bytes;
}

} // namespace

long long WaveNet::count_weights(const std::vector<LayerArrayParams>& layer_array_params,
                                 const std::optional<HeadParams>& head_params) {
  long long total = 1; // the head scale
  for (const auto& params : layer_array_params)
    total += detail::LayerArray::count_weights(params);
  if (head_params)
    total += detail::Head::count_weights(*head_params);
  return total;
}

WaveNet::WaveNet(const int in_channels, const std::vector<LayerArrayParams>& layer_array_params,
                 const float head_scale, const bool with_head, std::optional<HeadParams> head_params,
                 std::vector<float> weights, std::unique_ptr<DSP> condition_dsp,
                 const double expected_sample_rate) :
    DSP(in_channels,
        head_params ? head_params->out_channels
                    : (layer_array_params.empty() ? 1 : layer_array_params.back().head_size),
        expected_sample_rate),
    _condition_dsp(std::move(condition_dsp)),
    _head_scale(head_scale) {
  if (layer_array_params.empty())
    throw std::runtime_error("WaveNet requires at least one layer array");
  if (with_head && !head_params)
    throw std::runtime_error("WaveNet: with_head is true but head configuration is missing");
  if (!with_head && head_params)
    throw std::runtime_error("WaveNet: head configuration provided but with_head is false");
  if (head_params && head_params->in_channels != layer_array_params.back().head_size)
    throw std::runtime_error("WaveNet head in_channels (" + std::to_string(head_params->in_channels) +
                             ") must match last layer array head_size (" +
                             std::to_string(layer_array_params.back().head_size) + ")");
  const int condition_channels = _condition_dsp ? _condition_dsp->NumOutputChannels() : in_channels;
  if (_condition_dsp && _condition_dsp->NumInputChannels() != in_channels)
    throw std::runtime_error("input channels of WaveNet (" + std::to_string(in_channels) +
                             ") don't match input channels of condition DSP (" +
                             std::to_string(_condition_dsp->NumInputChannels()) + "!\n");
  for (size_t a = 0; a < layer_array_params.size(); ++a) {
    const auto& params = layer_array_params[a];
    const std::string array = "layer array " + std::to_string(a);
    if (params.condition_size != condition_channels) {
      if (_condition_dsp)
        throw std::runtime_error("condition_size of layer " + std::to_string(a) + " (" +
                                 std::to_string(params.condition_size) +
                                 ") doesn't match output channels of condition DSP (" +
                                 std::to_string(condition_channels) + "!\n");
      throw std::runtime_error("WaveNet " + array + ": condition_size (" +
                               std::to_string(params.condition_size) + ") must equal in_channels (" +
                               std::to_string(in_channels) + ") when there is no condition_dsp");
    }
    const int expected_input = a == 0 ? in_channels : layer_array_params[a - 1].channels;
    if (params.input_size != expected_input)
      throw std::runtime_error("WaveNet " + array + ": input_size (" + std::to_string(params.input_size) +
                               ") must equal " +
                               (a == 0 ? "in_channels (" : "the channels of the preceding layer array (") +
                               std::to_string(expected_input) + ")");
    if (a > 0) {
      const int previous_head = layer_array_params[a - 1].head_size;
      if (params.channels != previous_head)
        throw std::runtime_error(
            "channels of layer " + std::to_string(a) + " (" + std::to_string(params.channels) +
            ") doesn't match head_size of preceding layer (" + std::to_string(previous_head) + "!\n");
      if (params.head_input_size() != previous_head)
        throw std::runtime_error(
            "WaveNet " + array + ": its head input width (" + std::to_string(params.head_input_size()) +
            ", head1x1.out_channels or bottleneck) must equal the head_size of the preceding "
            "layer array (" +
            std::to_string(previous_head) + ")");
    }
  }
  for (const auto& params : layer_array_params)
    for (int l = 0; l < params.num_layers(); ++l)
      detail::Layer::check(params.layer(l));
  check_model_bytes(estimate_bytes(layer_array_params, head_params), "This WaveNet");
  // Shapes are consistent: check the weight count before allocating anything sized by them.
  _num_weights = count_weights(layer_array_params, head_params);
  check_weight_count(weights, _num_weights);

  _layer_arrays.reserve(layer_array_params.size());
  for (const auto& params : layer_array_params)
    _layer_arrays.emplace_back(params);
  if (head_params)
    _head.emplace(*head_params);
  set_weights_(weights);

  long receptive_field = _head ? _head->receptive_field() - 1 : 0;
  for (const auto& array : _layer_arrays)
    receptive_field += array.get_receptive_field();
  _prewarm_samples = static_cast<int>(std::min<long>(
      (_condition_dsp ? _condition_dsp->GetPrewarmSamples() : 1) + receptive_field, INT32_MAX));
  allocate(kInitialBlockCapacity);
}

WaveNet::~WaveNet() = default;

template <class F>
void WaveNet::for_each_conv(F&& f) {
  for (auto& array : _layer_arrays)
    array.for_each_conv(f);
  if (_head)
    _head->for_each_conv(f);
}

void WaveNet::set_weights_(std::vector<float>& weights) {
  check_weight_count(weights, _num_weights);
  auto it = weights.begin();
  set_weights_(it);
}

void WaveNet::set_weights_(std::vector<float>::iterator& weights) {
  for (auto& array : _layer_arrays)
    array.set_weights_(weights);
  if (_head)
    _head->set_weights_(weights);
  _head_scale = *(weights++);
  _prewarm_cached = false;
}

void WaveNet::allocate(const int block_capacity) {
  _block_capacity = std::max(block_capacity, 1);
  for (auto& array : _layer_arrays)
    array.SetMaxBufferSize(_block_capacity);
  if (_head) {
    _head->SetMaxBufferSize(_block_capacity);
    _scaled_head.setZero(_layer_arrays.back().GetOutputHead().rows(), _block_capacity);
  }
  _input.setZero(NumInputChannels(), _block_capacity);
  if (_condition_dsp) {
    _condition_dsp->SetMaxBufferSize(_block_capacity);
    const int channels = _condition_dsp->NumOutputChannels();
    _condition.setZero(channels, _block_capacity);
    _condition_samples.assign(channels, std::vector<NAM_SAMPLE>(_block_capacity, NAM_SAMPLE(0)));
    _condition_pointers.resize(channels);
    for (int c = 0; c < channels; ++c)
      _condition_pointers[c] = _condition_samples[c].data();
  }
}

void WaveNet::SetMaxBufferSize(const int maxBufferSize) {
  DSP::SetMaxBufferSize(maxBufferSize);
  allocate(maxBufferSize);
}

void WaveNet::SetPrewarmOnReset(const bool prewarmOnReset) {
  DSP::SetPrewarmOnReset(prewarmOnReset);
  if (_condition_dsp)
    _condition_dsp->SetPrewarmOnReset(prewarmOnReset);
}

void WaveNet::prewarm() {
  if (_prewarm_cached && GetMaxBufferSize() > 0) {
    for_each_conv([](Conv1D& conv) { conv.PrewarmFromCache(); });
    return;
  }
  DSP::prewarm();
  if (!_condition_dsp) {
    for_each_conv([](Conv1D& conv) { conv.CacheStateAsPrewarmed(); });
    _prewarm_cached = true;
  }
}

void WaveNet::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  process_in_pieces(input, output, num_frames, _block_capacity,
                    [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { process_block(in, out, n); });
}

void WaveNet::process_block(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  const int n = num_frames;
  if (n <= 0)
    return;
  for (int c = 0; c < NumInputChannels(); ++c)
    for (int t = 0; t < n; ++t)
      _input(c, t) = static_cast<float>(input[c][t]);
  const Eigen::MatrixXf* condition = &_input;
  if (_condition_dsp) {
    _condition_dsp->process(input, _condition_pointers.data(), n);
    for (int c = 0; c < _condition.rows(); ++c)
      for (int t = 0; t < n; ++t)
        _condition(c, t) = static_cast<float>(_condition_samples[c][t]);
    condition = &_condition;
  }

  const Eigen::MatrixXf* head = nullptr;
  const Eigen::MatrixXf* layer_inputs = &_input;
  for (auto& array : _layer_arrays) {
    array.Process(*layer_inputs, *condition, head, n);
    layer_inputs = &array.GetOutputNextLayer();
    head = &array.GetOutputHead();
  }

  const Eigen::MatrixXf* result = head;
  float scale = _head_scale;
  if (_head) {
    _scaled_head.leftCols(n) = _head_scale * head->leftCols(n);
    _head->Process(_scaled_head, n);
    result = &_head->GetOutput();
    scale = 1.0f;
  }
  for (int c = 0; c < NumOutputChannels(); ++c)
    for (int t = 0; t < n; ++t)
      output[c][t] = static_cast<NAM_SAMPLE>(scale * (*result)(c, t));
}

// ----------------------------------------------------------------------------------------------- parsing

namespace {

// Sizes beyond these are refused before anything is allocated (real models use a few dozen channels).
constexpr long long kMaxKernelSize = 4096;
constexpr long long kMaxDilation = 1 << 20;
constexpr long long kMaxLayersPerArray = 4096;

std::string array_prefix(const size_t i) {
  return "Layer array " + std::to_string(i) + ": ";
}

void check_prelu_width(const activations::ActivationConfig& config, const long rows,
                       const std::string& where) {
  if (config.type == activations::ActivationType::PReLU && config.negative_slopes &&
      static_cast<long>(config.negative_slopes->size()) != rows)
    throw_config_error(where, "PReLU has " + std::to_string(config.negative_slopes->size()) +
                                  " negative_slopes but is applied to " + std::to_string(rows) + " channels");
}

// A single activation spec broadcast to every layer, or an array with one spec per layer.
std::vector<activations::ActivationConfig> parse_activations(const ConfigReader& la, const size_t i,
                                                             const size_t layers) {
  const nlohmann::json& value = la.require("activation");
  const std::string where = la.path_of("activation");
  if (!value.is_array())
    return std::vector<activations::ActivationConfig>(layers,
                                                      activations::parse_activation_config(value, where));
  if (value.size() != layers)
    throw std::runtime_error(array_prefix(i) + "activation array size (" + std::to_string(value.size()) +
                             ") must match dilations size (" + std::to_string(layers) + ")");
  std::vector<activations::ActivationConfig> configs;
  for (size_t l = 0; l < layers; ++l)
    configs.push_back(activations::parse_activation_config(value[l], where + "[" + std::to_string(l) + "]"));
  return configs;
}

GatingMode parse_gating_mode(const nlohmann::json& value, const std::string& where) {
  const std::string name = json_to_string(value, where);
  if (name == "none")
    return GatingMode::NONE;
  if (name == "gated")
    return GatingMode::GATED;
  if (name == "blended")
    return GatingMode::BLENDED;
  throw std::runtime_error("Invalid gating_mode: " + name);
}

struct Gating {
  std::vector<GatingMode> modes;
  std::vector<activations::ActivationConfig> secondaries;
};

// `gating_mode` (string or per-layer array; wins over the legacy `gated` flag) and `secondary_activation`
// (defaults to Sigmoid for gated and blended layers; ignored for the others).
Gating parse_gating(const ConfigReader& la, const size_t i, const size_t layers) {
  const auto sigmoid = activations::ActivationConfig::simple(activations::ActivationType::Sigmoid);
  Gating gating{std::vector<GatingMode>(layers, GatingMode::NONE),
                std::vector<activations::ActivationConfig>(layers)};
  const nlohmann::json* modes = la.find("gating_mode");
  if (modes == nullptr) {
    if (la.get_bool_or("gated", false)) {
      gating.modes.assign(layers, GatingMode::GATED);
      gating.secondaries.assign(layers, sigmoid);
    }
    return gating;
  }
  const std::string modes_where = la.path_of("gating_mode");
  if (modes->is_array()) {
    for (size_t l = 0; l < modes->size() && l < layers; ++l)
      gating.modes[l] = parse_gating_mode((*modes)[l], modes_where + "[" + std::to_string(l) + "]");
    if (modes->size() != layers)
      throw std::runtime_error(array_prefix(i) + "gating_mode array size (" + std::to_string(modes->size()) +
                               ") must match dilations size (" + std::to_string(layers) + ")");
  } else {
    gating.modes.assign(layers, parse_gating_mode(*modes, modes_where));
  }

  const nlohmann::json* secondary = la.find("secondary_activation");
  const std::string where = la.path_of("secondary_activation");
  if (secondary != nullptr && secondary->is_array() && !modes->is_array() &&
      gating.modes[0] != GatingMode::NONE)
    throw_config_error(where, "Invalid activation config: expected string or object (gating_mode is a single "
                              "string, so secondary_activation must be a single activation)");
  for (size_t l = 0; l < layers; ++l) {
    if (gating.modes[l] == GatingMode::NONE)
      continue;
    if (secondary == nullptr) {
      gating.secondaries[l] = sigmoid;
    } else if (!secondary->is_array()) {
      gating.secondaries[l] = activations::parse_activation_config(*secondary, where);
    } else {
      if (l >= secondary->size())
        throw std::runtime_error(array_prefix(i) + "secondary_activation array size must be at least " +
                                 std::to_string(l + 1));
      gating.secondaries[l] =
          activations::parse_activation_config((*secondary)[l], where + "[" + std::to_string(l) + "]");
    }
  }
  if (secondary != nullptr && secondary->is_array() && modes->is_array() && secondary->size() != layers)
    throw std::runtime_error(array_prefix(i) + "secondary_activation array size (" +
                             std::to_string(secondary->size()) + ") must match dilations size (" +
                             std::to_string(layers) + ")");
  return gating;
}

// Absent or false: inactive. An object: active unless `"active": false`, shifting unless `"shift": false`.
_FiLMParams parse_film(const ConfigReader& la, const std::string& key) {
  const auto it = la.json().find(key);
  if (it == la.json().end() || (it->is_boolean() && !it->get<bool>()))
    return _FiLMParams(false, false, 1);
  if (!it->is_object())
    la.fail(key, "expected a FiLM object or false, got " + describe_json_value(*it));
  const ConfigReader film(*it, la.path_of(key));
  return _FiLMParams(film.get_bool_or("active", true), film.get_bool_or("shift", true),
                     film.get_int_or("groups", 1, 1, kMaxChannels));
}

std::vector<int> parse_kernel_sizes(const ConfigReader& la, const size_t i, const size_t layers) {
  const bool has_single = la.has("kernel_size");
  const bool has_list = la.has("kernel_sizes");
  if (has_single && has_list)
    throw std::runtime_error(array_prefix(i) +
                             "only one of kernel_size (int) or kernel_sizes (array) may be provided");
  if (has_list) {
    if (!la.require("kernel_sizes").is_array())
      throw std::runtime_error(array_prefix(i) + "kernel_sizes must be an array");
    std::vector<int> sizes = la.get_int_array("kernel_sizes", 1, kMaxKernelSize, true);
    if (sizes.size() != layers)
      throw std::runtime_error(array_prefix(i) + "kernel_sizes array size (" + std::to_string(sizes.size()) +
                               ") must match dilations size (" + std::to_string(layers) + ")");
    return sizes;
  }
  if (!has_single)
    throw std::runtime_error(array_prefix(i) +
                             "either kernel_size (int) or kernel_sizes (array) must be provided");
  return std::vector<int>(layers, la.get_int("kernel_size", 1, kMaxKernelSize));
}

struct HeadRechannel {
  int out_channels;
  int kernel_size;
  bool bias;
  int dilation;
};

HeadRechannel parse_head_rechannel(const ConfigReader& la, const size_t i) {
  if (la.has("head")) {
    if (!la.require("head").is_object())
      throw std::runtime_error(array_prefix(i) + "'head' must be a JSON object");
    const ConfigReader head = la.get_object("head");
    HeadRechannel parsed{head.get_int("out_channels", 1, kMaxChannels), head.get_int("kernel_size"),
                         head.get_bool("bias"), head.get_int_or("head_dilation", 1, 0, kMaxDilation)};
    if (parsed.kernel_size < 1)
      throw std::runtime_error(array_prefix(i) + "head.kernel_size must be >= 1");
    if (parsed.kernel_size > kMaxKernelSize)
      head.fail("kernel_size", "must be at most " + std::to_string(kMaxKernelSize));
    return parsed;
  }
  if (la.has("head_size"))
    return HeadRechannel{la.get_int("head_size", 1, kMaxChannels), 1, la.get_bool("head_bias"), 1};
  throw std::runtime_error(
      array_prefix(i) +
      "expected 'head' object with out_channels, kernel_size, and bias, or legacy 'head_size' "
      "and 'head_bias'");
}

LayerArrayParams parse_layer_array(const ConfigReader& la, const size_t i) {
  const int input_size = la.get_int("input_size", 1, kMaxChannels);
  const int condition_size = la.get_int("condition_size", 1, kMaxChannels);
  const int channels = la.get_int("channels", 1, kMaxChannels);
  const int bottleneck = la.get_int_or("bottleneck", channels, 1, kMaxChannels);
  const HeadRechannel head = parse_head_rechannel(la, i);

  const std::vector<int> dilations = la.get_int_array("dilations", 0, kMaxDilation, true);
  if (dilations.empty())
    la.fail("dilations", "must not be empty (a layer array needs at least one layer)");
  if (static_cast<long long>(dilations.size()) > kMaxLayersPerArray)
    la.fail("dilations", "more than " + std::to_string(kMaxLayersPerArray) + " layers");
  const size_t layers = dilations.size();
  std::vector<int> kernel_sizes = parse_kernel_sizes(la, i, layers);
  std::vector<activations::ActivationConfig> activations = parse_activations(la, i, layers);
  Gating gating = parse_gating(la, i, layers);

  Layer1x1Params layer1x1(true, 1);
  if (la.contains("layer1x1")) {
    const ConfigReader reader = la.get_object("layer1x1");
    layer1x1 = Layer1x1Params(reader.get_bool("active"), reader.get_int("groups", 1, kMaxChannels));
  }
  Head1x1Params head1x1(false, 0, 1);
  if (la.contains("head1x1")) {
    const ConfigReader reader = la.get_object("head1x1");
    const bool active = reader.get_bool("active");
    head1x1 = Head1x1Params(active, reader.get_int("out_channels", active ? 1 : 0, kMaxChannels),
                            reader.get_int("groups", active ? 1 : 0, kMaxChannels));
  }
  const int groups_input = la.get_int_or("groups_input", 1, 1, kMaxChannels);
  const int groups_input_mixin = la.get_int_or("groups_input_mixin", 1, 1, kMaxChannels);

  const auto film = [&la](const FilmSite site) {
    return parse_film(la, kFilmConfigKeys[static_cast<int>(site)]);
  };
  const _FiLMParams layer1x1_post = film(FilmSite::layer1x1_output);
  if (layer1x1_post.active && !layer1x1.active)
    throw std::runtime_error(array_prefix(i) +
                             "layer1x1_post_film cannot be active when layer1x1.active is false");

  for (size_t l = 0; l < layers; ++l) {
    const std::string index = "[" + std::to_string(l) + "]";
    check_prelu_width(activations[l], bottleneck, la.path_of("activation") + index);
    if (gating.modes[l] != GatingMode::NONE)
      check_prelu_width(gating.secondaries[l], bottleneck, la.path_of("secondary_activation") + index);
  }

  return LayerArrayParams(
      input_size, condition_size, head.out_channels, head.dilation, head.kernel_size, channels, bottleneck,
      std::move(kernel_sizes), std::vector<int>(dilations), std::move(activations), std::move(gating.modes),
      head.bias, groups_input, groups_input_mixin, layer1x1, head1x1, std::move(gating.secondaries),
      film(FilmSite::conv_input), film(FilmSite::conv_output), film(FilmSite::mixin_input),
      film(FilmSite::mixin_output), film(FilmSite::activation_input), film(FilmSite::activation_output),
      layer1x1_post, film(FilmSite::head1x1_output));
}

HeadParams parse_post_stack_head(const ConfigReader& head, const int last_head_size) {
  if (head.has("in_channels")) {
    const int in_channels = head.get_int("in_channels");
    if (in_channels != last_head_size)
      throw std::runtime_error("WaveNet config: head.in_channels (" + std::to_string(in_channels) +
                               ") must equal last layer's head_size (" + std::to_string(last_head_size) +
                               ")");
  }
  HeadParams params;
  params.in_channels = last_head_size;
  params.channels = head.get_int("channels", 1, kMaxChannels);
  params.out_channels = head.get_int("out_channels", 1, kMaxChannels);
  params.kernel_sizes = head.get_int_array("kernel_sizes", INT_MIN, kMaxKernelSize, true);
  if (params.kernel_sizes.empty())
    throw std::runtime_error("WaveNet config: head.kernel_sizes must be non-empty");
  for (const int k : params.kernel_sizes)
    if (k < 1)
      throw std::runtime_error("WaveNet Head: kernel_sizes entries must be >= 1");
  params.activation_config =
      activations::parse_activation_config(head.require("activation"), head.path_of("activation"));
  for (size_t i = 0; i < params.kernel_sizes.size(); ++i)
    check_prelu_width(params.activation_config, i == 0 ? params.in_channels : params.channels,
                      head.path_of("activation"));
  return params;
}

} // namespace

WaveNetConfig parse_config_json(const nlohmann::json& config, const double expectedSampleRate) {
  const ConfigReader reader(config, "config");
  WaveNetConfig parsed;
  if (reader.has("condition_dsp")) {
    parsed.condition_dsp =
        load_nested_model(reader.require("condition_dsp"), reader.path_of("condition_dsp"));
    const double condition_rate = parsed.condition_dsp->GetExpectedSampleRate();
    if (condition_rate != expectedSampleRate)
      throw std::runtime_error("Condition DSP expected sample rate (" + number_text(condition_rate) +
                               ") doesn't match WaveNet expected sample rate (" +
                               number_text(expectedSampleRate) + "!\n");
  }
  const nlohmann::json& layers = reader.require("layers");
  if (!layers.is_array())
    reader.fail("layers", "expected an array of layer arrays, got " + describe_json_value(layers));
  for (size_t i = 0; i < layers.size(); ++i)
    parsed.layer_array_params.push_back(parse_layer_array(
        ConfigReader(layers[i], reader.path_of("layers") + "[" + std::to_string(i) + "]"), i));
  if (parsed.layer_array_params.empty())
    throw std::runtime_error("WaveNet config requires at least one layer array");
  parsed.head_scale = static_cast<float>(reader.get_number("head_scale"));
  parsed.in_channels = reader.get_int_or("in_channels", 1, 1, kMaxChannels);
  if (reader.has("head")) {
    parsed.head_params =
        parse_post_stack_head(reader.get_object("head"), parsed.layer_array_params.back().head_size);
    parsed.with_head = true;
  }
  return parsed;
}

std::unique_ptr<DSP> WaveNetConfig::create(std::vector<float> weights, double sampleRate) {
  return std::make_unique<WaveNet>(in_channels, layer_array_params, head_scale, with_head, head_params,
                                   std::move(weights), std::move(condition_dsp), sampleRate);
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, const double sampleRate) {
  if (slimmable_wavenet::is_slimmable_config(config))
    return slimmable_wavenet::create_config(config, sampleRate);
  if (a2_fast::is_a2_shape(config, nullptr))
    return a2_fast::create_a2_fast_config(config, sampleRate);
  return std::make_unique<WaveNetConfig>(parse_config_json(config, sampleRate));
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("WaveNet", create_config);
}

} // namespace wavenet
} // namespace nam
