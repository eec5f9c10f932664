#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "../config_reader.h"
#include "../get_dsp.h"
#include "model.h"
#include "slimmable.h"

namespace nam {
namespace slimmable_wavenet {

namespace {

constexpr const char* kMethod = "slice_channels_uniform";

// Copies the leading (rows x cols x taps) sub-block of a row-major (full_rows x full_cols x taps) tensor
// read from `in`, advancing `in` past the whole tensor.
void keep_leading_block(std::vector<float>::const_iterator& in, std::vector<float>& out, const long full_rows,
                        const long full_cols, const long rows, const long cols, const long taps = 1) {
  for (long r = 0; r < full_rows; ++r)
    for (long c = 0; c < full_cols; ++c)
      for (long k = 0; k < taps; ++k, ++in)
        if (r < rows && c < cols)
          out.push_back(*in);
}

void keep_leading(std::vector<float>::const_iterator& in, std::vector<float>& out, const long full,
                  const long kept) {
  keep_leading_block(in, out, full, 1, kept, 1);
}

void keep_all(std::vector<float>::const_iterator& in, std::vector<float>& out, const long count) {
  out.insert(out.end(), in, in + count);
  in += count;
}

// A FiLM is a (m*dim x condition) 1x1 with bias, m = 2 with shift; its leading m*kept rows are kept.
void keep_film(std::vector<float>::const_iterator& in, std::vector<float>& out,
               const wavenet::_FiLMParams& film, const long condition, const long dim, const long kept_dim) {
  if (!film.active)
    return;
  const long m = film.shift ? 2 : 1;
  keep_leading_block(in, out, m * dim, condition, m * kept_dim, condition);
  keep_leading(in, out, m * dim, m * kept_dim);
}

// Narrowing keeps leading channels, which matches the full model only when every one of these is 1.
void check_sliceable(const wavenet::LayerArrayParams& p) {
  const std::pair<const char*, int> must_be_one[] = {
      {"head kernel_size", p.head_kernel_size},
      {"groups_input", p.groups_input},
      {"groups_input_mixin", p.groups_input_mixin},
      {"layer1x1 groups", p.layer1x1_params.active ? p.layer1x1_params.groups : 1},
      {"head1x1 groups", p.head1x1_params.active ? p.head1x1_params.groups : 1},
  };
  for (const auto& [what, value] : must_be_one)
    if (value != 1)
      throw std::runtime_error("SlimmableWavenet: cannot slim a model whose " + std::string(what) + " is " +
                               std::to_string(value) + " (only 1 is supported)");
}

// The parameters of array `a` narrowed to `widths`.
wavenet::LayerArrayParams narrowed(const std::vector<wavenet::LayerArrayParams>& full,
                                   const std::vector<int>& widths, const size_t a) {
  wavenet::LayerArrayParams p = full[a];
  const int c = widths[a];
  p.bottleneck = p.layer1x1_params.active ? std::max(1, full[a].bottleneck * c / full[a].channels) : c;
  p.channels = c;
  if (a > 0)
    p.input_size = widths[a - 1];
  if (a + 1 < full.size())
    p.head_size = widths[a + 1];
  return p;
}

// Walks the full weights in WaveNet order, keeping each tensor's leading sub-block for the slim shapes.
std::vector<float> slice_weights(const std::vector<float>& weights,
                                 const std::vector<wavenet::LayerArrayParams>& full,
                                 const std::vector<wavenet::LayerArrayParams>& slim) {
  std::vector<float> out;
  auto in = weights.cbegin();
  for (size_t a = 0; a < full.size(); ++a) {
    const auto& f = full[a];
    const auto& s = slim[a];
    keep_leading_block(in, out, f.channels, f.input_size, s.channels, s.input_size);
    for (int l = 0; l < f.num_layers(); ++l) {
      const wavenet::LayerParams fl = f.layer(l);
      const wavenet::LayerParams sl = s.layer(l);
      const long dc = fl.condition_size;
      const long z = fl.doubled_width();
      const long zs = sl.doubled_width();
      keep_leading_block(in, out, z, fl.channels, zs, sl.channels, fl.kernel_size);
      keep_leading(in, out, z, zs);
      keep_leading_block(in, out, z, dc, zs, dc);
      if (fl.layer1x1_params.active) {
        keep_leading_block(in, out, fl.channels, fl.bottleneck, sl.channels, sl.bottleneck);
        keep_leading(in, out, fl.channels, sl.channels);
      }
      if (fl.head1x1_params.active) {
        const long h1 = fl.head1x1_params.out_channels;
        keep_leading_block(in, out, h1, fl.bottleneck, h1, sl.bottleneck);
        keep_all(in, out, h1);
      }
      keep_film(in, out, fl.conv_pre_film_params, dc, fl.channels, sl.channels);
      keep_film(in, out, fl.conv_post_film_params, dc, z, zs);
      keep_film(in, out, fl.input_mixin_pre_film_params, dc, dc, dc);
      keep_film(in, out, fl.input_mixin_post_film_params, dc, z, zs);
      keep_film(in, out, fl.activation_pre_film_params, dc, z, zs);
      keep_film(in, out, fl.activation_post_film_params, dc, fl.bottleneck, sl.bottleneck);
      keep_film(in, out, fl._layer1x1_post_film_params, dc, fl.channels, sl.channels);
      keep_film(in, out, fl.head1x1_post_film_params, dc, fl.head_width(), fl.head_width());
    }
    keep_leading_block(in, out, f.head_size, f.head_input_size(), s.head_size, s.head_input_size());
    if (f.head_bias)
      keep_leading(in, out, f.head_size, s.head_size);
  }
  keep_all(in, out, 1); // head scale
  return out;
}

// The `allowed_channels` of each array (empty when it is not slimmable).
std::vector<std::vector<int>> parse_allowed_channels(const nlohmann::json& config,
                                                     const std::vector<wavenet::LayerArrayParams>& params) {
  std::vector<std::vector<int>> allowed(params.size());
  const nlohmann::json& layers = config.at("layers");
  for (size_t a = 0; a < params.size(); ++a) {
    const auto it = layers[a].find("slimmable");
    if (it == layers[a].end() || !it->is_object())
      continue;
    const ConfigReader slimmable(*it, "config.layers[" + std::to_string(a) + "].slimmable");
    const std::string method = slimmable.get_string_or("method", "");
    if (method != kMethod)
      throw std::runtime_error("SlimmableWavenet: unsupported slimmable method '" + method + "'");
    const nlohmann::json* kwargs = slimmable.find("kwargs");
    if (kwargs != nullptr && ConfigReader(*kwargs, slimmable.path_of("kwargs")).has("allowed_channels")) {
      allowed[a] =
          ConfigReader(*kwargs, slimmable.path_of("kwargs")).get_int_array("allowed_channels", 1, 4096, true);
    } else {
      for (int c = 1; c <= params[a].channels; ++c)
        allowed[a].push_back(c);
    }
  }
  return allowed;
}

} // namespace

SlimmableWavenet::SlimmableWavenet(std::vector<wavenet::LayerArrayParams> original_params,
                                   std::vector<std::vector<int>> per_array_allowed_channels,
                                   const int in_channels, const float head_scale, const bool with_head,
                                   nlohmann::json condition_dsp_json, std::vector<float> full_weights,
                                   const double expected_sample_rate) :
    DSP(in_channels, original_params.empty() ? 1 : original_params.back().head_size, expected_sample_rate),
    _full{std::move(original_params),
          std::move(per_array_allowed_channels),
          in_channels,
          head_scale,
          std::move(condition_dsp_json),
          std::move(full_weights),
          expected_sample_rate} {
  if (_full.allowed_widths.size() != _full.arrays.size())
    throw std::runtime_error("SlimmableWavenet: one allowed_channels list per layer array is required");
  bool any = false;
  for (size_t a = 0; a < _full.arrays.size(); ++a) {
    const auto& allowed = _full.allowed_widths[a];
    if (allowed.empty())
      continue;
    any = true;
    if (!std::is_sorted(allowed.begin(), allowed.end()) ||
        std::adjacent_find(allowed.begin(), allowed.end()) != allowed.end())
      throw std::runtime_error("SlimmableWavenet: allowed_channels must be sorted ascending");
    if (allowed.back() != _full.arrays[a].channels)
      throw std::runtime_error(
          "SlimmableWavenet: last allowed_channels entry must equal the full channel count for that array");
  }
  if (!any)
    throw std::runtime_error("SlimmableWavenet: at least one layer array must have allowed_channels");
  if (with_head)
    throw std::runtime_error("SlimmableWavenet: post-stack head is not supported");
  for (const auto& p : _full.arrays)
    _selected_widths.push_back(p.channels);
  _active_model = build(_selected_widths);
}

SlimmableWavenet::~SlimmableWavenet() = default;

std::unique_ptr<DSP> SlimmableWavenet::build(const std::vector<int>& widths) const {
  bool at_full_width = true;
  for (size_t a = 0; a < _full.arrays.size(); ++a)
    at_full_width = at_full_width && widths[a] == _full.arrays[a].channels;
  std::vector<wavenet::LayerArrayParams> params;
  if (at_full_width) {
    params = _full.arrays;
  } else {
    for (const auto& p : _full.arrays)
      check_sliceable(p);
    for (size_t a = 0; a < _full.arrays.size(); ++a)
      params.push_back(narrowed(_full.arrays, widths, a));
  }
  std::vector<float> weights =
      at_full_width ? _full.weights : slice_weights(_full.weights, _full.arrays, params);
  std::unique_ptr<DSP> condition = _full.condition_dsp.is_null()
                                       ? nullptr
                                       : load_nested_model(_full.condition_dsp, "config.condition_dsp");
  const double rate = _host.reset && _host.sample_rate > 0 ? _host.sample_rate : _full.file_sample_rate;
  auto model =
      std::make_unique<wavenet::WaveNet>(_full.in_channels, params, _full.head_scale, false, std::nullopt,
                                         std::move(weights), std::move(condition), rate);
  model->SetPrewarmOnReset(GetPrewarmOnReset());
  if (_host.reset)
    model->Reset(_host.sample_rate, _host.max_buffer_size);
  return model;
}

std::vector<int> SlimmableWavenet::widths_for(const double val) const {
  std::vector<int> widths;
  for (size_t a = 0; a < _full.arrays.size(); ++a) {
    const auto& allowed = _full.allowed_widths[a];
    if (allowed.empty()) {
      widths.push_back(_full.arrays[a].channels);
      continue;
    }
    const double n = static_cast<double>(allowed.size());
    const double index = std::floor(std::clamp(val, 0.0, 1.0) * n);
    widths.push_back(allowed[static_cast<size_t>(std::min(index, n - 1))]);
  }
  return widths;
}

void SlimmableWavenet::SetSlimmableSize(const double val) {
  const std::vector<int> widths = widths_for(std::isnan(val) ? 1.0 : val);
  if (widths == _selected_widths) {
    _handoff.collect();
    return;
  }
  _handoff.publish(build(widths));
  _selected_widths = widths;
}

std::vector<double> SlimmableWavenet::GetSlimmableSizeBreakpoints() const {
  std::vector<double> breakpoints;
  for (const auto& allowed : _full.allowed_widths)
    for (size_t i = 1; i < allowed.size(); ++i)
      breakpoints.push_back(static_cast<double>(i) / static_cast<double>(allowed.size()));
  std::sort(breakpoints.begin(), breakpoints.end());
  breakpoints.erase(std::unique(breakpoints.begin(), breakpoints.end()), breakpoints.end());
  return breakpoints;
}

void SlimmableWavenet::take_pending_model() {
  _handoff.take(_active_model);
  _handoff.collect();
}

void SlimmableWavenet::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  _handoff.take(_active_model);
  _active_model->process(input, output, num_frames);
}

void SlimmableWavenet::prewarm() {
  take_pending_model();
  _active_model->prewarm();
}

void SlimmableWavenet::Reset(const double sampleRate, const int maxBufferSize) {
  take_pending_model();
  _host = {true, sampleRate, maxBufferSize};
  DSP::SetMaxBufferSize(maxBufferSize);
  _active_model->Reset(sampleRate, maxBufferSize);
}

void SlimmableWavenet::SetPrewarmOnReset(const bool prewarmOnReset) {
  DSP::SetPrewarmOnReset(prewarmOnReset);
  _active_model->SetPrewarmOnReset(prewarmOnReset);
}

bool is_slimmable_config(const nlohmann::json& config) {
  const auto layers = config.find("layers");
  if (!config.is_object() || layers == config.end() || !layers->is_array())
    return false;
  for (const auto& layer_array : *layers) {
    if (!layer_array.is_object())
      continue;
    const auto slimmable = layer_array.find("slimmable");
    if (slimmable == layer_array.end() || !slimmable->is_object())
      continue;
    const auto method = slimmable->find("method");
    const std::string name =
        method != slimmable->end() && method->is_string() ? method->get<std::string>() : "";
    if (name == kMethod)
      return true;
    if (!name.empty())
      throw std::runtime_error("SlimmableWavenet: unsupported slimmable method '" + name + "'");
  }
  return false;
}

namespace {

struct SlimmableConfig : public ModelConfig {
  wavenet::WaveNetConfig parsed;
  std::vector<std::vector<int>> allowed;
  nlohmann::json condition_dsp_json;

  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override {
    return std::make_unique<SlimmableWavenet>(parsed.layer_array_params, allowed, parsed.in_channels,
                                              parsed.head_scale, parsed.with_head, condition_dsp_json,
                                              std::move(weights), sampleRate);
  }
};

} // namespace

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, const double sampleRate) {
  auto result = std::make_unique<SlimmableConfig>();
  result->parsed = wavenet::parse_config_json(config, sampleRate);
  result->allowed = parse_allowed_channels(config, result->parsed.layer_array_params);
  const auto condition = config.find("condition_dsp");
  if (condition != config.end())
    result->condition_dsp_json = *condition;
  return result;
}

} // namespace slimmable_wavenet
} // namespace nam
