#include <algorithm>
#include <climits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "builtin_architectures.h"
#include "compiler.h"
#include "config_reader.h"
#include "convnet.h"
#include "resource_limits.h"

namespace nam {
namespace convnet {

namespace {
// Sizes refused before anything is allocated (channel counts and groups are bounded by kMaxChannels).
constexpr int kMaxBlocks = 4096;      // entries of dilations
constexpr int kMaxDilation = 1 << 20; // about 20 s at 48 kHz
// Past input values all blocks together keep (sum of dilation x input channels): 64 MB of floats.
constexpr long long kMaxHistoryValues = 1LL << 24;
// Block size a model is prepared for until its first Reset.
constexpr int kInitialBlockCapacity = 64;
// Each history row has room for this many blocks after the kept frames, so rows are rewound rarely.
constexpr long kBlocksBetweenRewinds = 2;

/// \brief Past input values the blocks keep: each block remembers `dilation` frames of its input.
long long history_values(const int in_channels, const int channels, const std::vector<int>& dilations) {
  long long total = 0;
  for (size_t i = 0; i < dilations.size(); ++i)
    total += static_cast<long long>(dilations[i]) * (i == 0 ? in_channels : channels);
  return total;
}

// Frames whose two tap sums stay in registers while the input channels are swept.
constexpr int kFramesPerTile = 16;

/// \brief z[t] = sum_j w_past[j] past_j[t] + sum_j w_now[j] now_j[t] for one output channel and one tile of
/// frames; the two tap sums are formed separately and then added, as the original does. Input channel j's
/// rows are `row_stride` apart; `taps` holds (past, current) weight pairs. Without kPartial the tile is full.
template <bool kPartial>
NAM_ALWAYS_INLINE void convolve_tile(const float* NAM_RESTRICT past, const float* NAM_RESTRICT now,
                                     const long row_stride, const float* NAM_RESTRICT taps, const int inputs,
                                     const int count, float* NAM_RESTRICT z) {
  float past_sum[kFramesPerTile] = {};
  float now_sum[kFramesPerTile] = {};
  for (int j = 0; j < inputs; ++j) {
    const float* NAM_RESTRICT past_row = past + j * row_stride;
    const float* NAM_RESTRICT now_row = now + j * row_stride;
    for (int t = 0; t < kFramesPerTile; ++t)
      if (!kPartial || t < count) {
        past_sum[t] += taps[2 * j] * past_row[t];
        now_sum[t] += taps[2 * j + 1] * now_row[t];
      }
  }
  for (int t = 0; t < kFramesPerTile; ++t)
    if (!kPartial || t < count)
      z[t] = past_sum[t] + now_sum[t];
}
} // namespace

// ConvNetBlock ===========================================================================================

ConvNetBlock::ConvNetBlock(const int in_channels, const int out_channels, const int dilation,
                           const bool batchnorm, const activations::ActivationConfig& activation_config,
                           const int groups, std::vector<float>::iterator& weights) :
    _in_channels(in_channels),
    _out_channels(out_channels),
    _dilation(dilation),
    _groups(groups),
    _batchnorm(batchnorm) {
  if (dilation < 0)
    throw std::runtime_error("ConvNet: dilations must not be negative, got " + std::to_string(dilation));
  check_conv_groups(in_channels, out_channels, groups);
  // The file's order (output channel, input channel of the group, tap) is also the order Process() reads.
  const long conv_weights = 2L * out_channels * (in_channels / groups);
  _weight.assign(weights, weights + conv_weights);
  weights += conv_weights;
  if (batchnorm) {
    _batchnorm_params = BatchNorm(out_channels, weights);
  } else {
    _bias.assign(weights, weights + out_channels);
    weights += out_channels;
  }
  _activation = activations::Activation::get_activation(activation_config);
  if (_activation == nullptr)
    throw std::runtime_error("ConvNet: unsupported activation");
  SetMaxBufferSize(kInitialBlockCapacity);
}

long ConvNetBlock::weight_count(const int in_channels, const int out_channels, const bool batchnorm,
                                const int groups) {
  const long conv_weights = 2L * out_channels * (in_channels / groups);
  return conv_weights + (batchnorm ? BatchNorm::weight_count(out_channels) : out_channels);
}

void ConvNetBlock::SetMaxBufferSize(const int maxBufferSize) {
  const long capacity = std::max(maxBufferSize, 1);
  const long room = std::max(kBlocksBetweenRewinds * capacity, static_cast<long>(_dilation));
  _row_length = _dilation + room;
  _history.assign(static_cast<size_t>(_in_channels) * _row_length, 0.0f);
  _position = _dilation;
}

float* ConvNetBlock::prepare_input_(const int num_frames) {
  if (_position + num_frames > _row_length) {
    // Move the frames that the convolution still looks back at to the start of each row.
    for (int c = 0; c < _in_channels; ++c) {
      float* row = _history.data() + c * _row_length;
      std::copy(row + _position - _dilation, row + _position, row);
    }
    _position = _dilation;
  }
  return _history.data() + _position;
}

void ConvNetBlock::Process(const int num_frames, float* output, const long output_stride) {
  const int inputs_per_group = _in_channels / _groups;
  const int outputs_per_group = _out_channels / _groups;
  for (int o = 0; o < _out_channels; ++o) {
    const long first_input = static_cast<long>(o / outputs_per_group) * inputs_per_group;
    const float* now = _history.data() + first_input * _row_length + _position;
    const float* past = now - _dilation;
    const float* taps = _weight.data() + 2L * o * inputs_per_group;
    float* z = output + o * output_stride;
    int t = 0;
    for (; t + kFramesPerTile <= num_frames; t += kFramesPerTile)
      convolve_tile<false>(past + t, now + t, _row_length, taps, inputs_per_group, kFramesPerTile, z + t);
    if (t < num_frames)
      convolve_tile<true>(past + t, now + t, _row_length, taps, inputs_per_group, num_frames - t, z + t);
    if (_batchnorm) {
      _batchnorm_params.apply(o, z, num_frames);
    } else {
      const float bias = _bias[o];
      for (int i = 0; i < num_frames; ++i)
        z[i] += bias;
    }
  }
  _activation->apply_planar(output, _out_channels, num_frames, output_stride);
  _position += num_frames;
}

// ConvNet ================================================================================================

ConvNet::ConvNet(const int in_channels, const int out_channels, const int channels,
                 const std::vector<int>& dilations, const bool batchnorm,
                 const activations::ActivationConfig& activation_config, std::vector<float>& weights,
                 const double expected_sample_rate, const int groups) :
    DSP(in_channels, out_channels, expected_sample_rate),
    _channels(channels) {
  if (channels < 1)
    throw std::runtime_error("ConvNet: channels must be positive, got " + std::to_string(channels));
  if (dilations.empty())
    throw std::runtime_error("ConvNet: dilations must not be empty");
  for (const int d : dilations)
    if (d < 0)
      throw std::runtime_error("ConvNet: dilations must not be negative, got " + std::to_string(d));
  check_conv_groups(in_channels, channels, groups);

  long long expected = static_cast<long long>(out_channels) * channels + out_channels;
  for (size_t i = 0; i < dilations.size(); ++i)
    expected += ConvNetBlock::weight_count(i == 0 ? in_channels : channels, channels, batchnorm, groups);
  if (expected != static_cast<long long>(weights.size()))
    throw std::runtime_error("Didn't touch all the weights when initializing ConvNet: the config needs " +
                             std::to_string(expected) + " weights, got " + std::to_string(weights.size()));

  auto it = weights.begin();
  _blocks.reserve(dilations.size());
  for (size_t i = 0; i < dilations.size(); ++i)
    _blocks.emplace_back(i == 0 ? in_channels : channels, channels, dilations[i], batchnorm,
                         activation_config, groups, it);
  const long head_weights = static_cast<long>(out_channels) * channels;
  _head_weight.assign(it, it + head_weights);
  _head_bias.assign(it + head_weights, it + head_weights + out_channels);

  const long long receptive_field = 1 + std::accumulate(dilations.begin(), dilations.end(), 0LL);
  if (receptive_field > INT_MAX)
    throw std::runtime_error("ConvNet: the dilations add up to more than the supported receptive field");
  _prewarm_samples = static_cast<int>(receptive_field);
  allocate(kInitialBlockCapacity);
}

ConvNet::~ConvNet() = default;

void ConvNet::allocate(const int block_capacity) {
  _block_capacity = std::max(block_capacity, 1);
  for (auto& block : _blocks)
    block.SetMaxBufferSize(_block_capacity);
  _last_output.assign(static_cast<size_t>(_channels) * _block_capacity, 0.0f);
  _head_row.assign(_block_capacity, 0.0f);
}

void ConvNet::SetMaxBufferSize(const int maxBufferSize) {
  DSP::SetMaxBufferSize(maxBufferSize);
  allocate(maxBufferSize); // also clears every history: a Reset starts from silence
}

void ConvNet::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  process_in_pieces(input, output, num_frames, _block_capacity,
                    [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { process_piece(in, out, n); });
}

void ConvNet::process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  float* first_input = _blocks.front().prepare_input_(num_frames);
  const long first_stride = _blocks.front().input_stride();
  for (int c = 0; c < NumInputChannels(); ++c)
    for (int t = 0; t < num_frames; ++t)
      first_input[c * first_stride + t] = static_cast<float>(input[c][t]);

  // Each block writes straight into the next block's input history; the last one into _last_output.
  for (size_t i = 0; i < _blocks.size(); ++i) {
    const bool last = i + 1 == _blocks.size();
    float* destination = last ? _last_output.data() : _blocks[i + 1].prepare_input_(num_frames);
    const long stride = last ? _block_capacity : _blocks[i + 1].input_stride();
    _blocks[i].Process(num_frames, destination, stride);
  }

  float* NAM_RESTRICT row = _head_row.data();
  for (int o = 0; o < NumOutputChannels(); ++o) {
    std::fill(row, row + num_frames, 0.0f);
    for (int j = 0; j < _channels; ++j) {
      const float weight = _head_weight[static_cast<size_t>(o) * _channels + j];
      const float* NAM_RESTRICT values = _last_output.data() + static_cast<size_t>(j) * _block_capacity;
      for (int t = 0; t < num_frames; ++t)
        row[t] += weight * values[t];
    }
    for (int t = 0; t < num_frames; ++t)
      output[o][t] = static_cast<NAM_SAMPLE>(row[t] + _head_bias[o]);
  }
}

// Config =================================================================================================

ConvNetConfig parse_config_json(const nlohmann::json& config) {
  const ConfigReader reader(config, "config");
  ConvNetConfig parsed;
  parsed.channels = reader.get_int("channels", 1, kMaxChannels);
  parsed.dilations = reader.get_int_array("dilations", 0, kMaxDilation);
  if (parsed.dilations.size() > static_cast<size_t>(kMaxBlocks))
    reader.fail("dilations", "at most " + std::to_string(kMaxBlocks) + " blocks are supported, got " +
                                 std::to_string(parsed.dilations.size()));
  parsed.batchnorm = reader.get_bool("batchnorm");
  parsed.activation =
      activations::parse_activation_config(reader.require("activation"), reader.path_of("activation"));
  parsed.groups = reader.get_int_or("groups", 1, 1, kMaxChannels);
  parsed.in_channels = reader.get_int_or("in_channels", 1, 1, kMaxChannels);
  parsed.out_channels = reader.get_int_or("out_channels", 1, 1, kMaxChannels);
  try {
    check_conv_groups(parsed.in_channels, parsed.channels, parsed.groups);
  } catch (const std::runtime_error& e) {
    reader.fail("groups", e.what());
  }
  const long long history = history_values(parsed.in_channels, parsed.channels, parsed.dilations);
  if (history > kMaxHistoryValues)
    reader.fail("dilations", "the blocks would keep " + std::to_string(history) +
                                 " past values (the sum of dilation x input channels), more than the " +
                                 std::to_string(kMaxHistoryValues) + " supported");
  // Each block's kernel-2 conv (as read and once more as the kernels use it), its batchnorm and outputs,
  // plus the history.
  const double channels = parsed.channels;
  const double block_floats = 2.0 * 2.0 * channels * (channels / parsed.groups) + 8.0 * channels;
  check_model_bytes(sizeof(float) * (parsed.dilations.size() * block_floats + 2.0 * history +
                                     parsed.out_channels * (channels + 1.0)),
                    "This ConvNet");
  return parsed;
}

std::unique_ptr<DSP> ConvNetConfig::create(std::vector<float> weights, double sampleRate) {
  return std::make_unique<ConvNet>(in_channels, out_channels, channels, dilations, batchnorm, activation,
                                   weights, sampleRate, groups);
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double /*sampleRate*/) {
  return std::make_unique<ConvNetConfig>(parse_config_json(config));
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("ConvNet", create_config);
}

} // namespace convnet
} // namespace nam
