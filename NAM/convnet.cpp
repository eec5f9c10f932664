#include <algorithm>
#include <climits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "builtin_architectures.h"
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

/// \brief Past input values the blocks keep: each block remembers `dilation` frames of its input.
long long history_values(const int in_channels, const int channels, const std::vector<int>& dilations) {
  long long total = 0;
  for (size_t i = 0; i < dilations.size(); ++i)
    total += static_cast<long long>(dilations[i]) * (i == 0 ? in_channels : channels);
  return total;
}
} // namespace

// ConvNetBlock ===========================================================================================

ConvNetBlock::ConvNetBlock(const int in_channels, const int out_channels, const int dilation,
                           const bool batchnorm, const activations::ActivationConfig& activation_config,
                           const int groups, std::vector<float>::iterator& weights) :
    _batchnorm(batchnorm) {
  // The file's order (output channel, input channel of the group, tap, then the bias) is Conv1D's.
  _conv.set_size_and_weights_(in_channels, out_channels, 2, dilation, !batchnorm, groups, weights);
  if (batchnorm)
    _batchnorm_params = BatchNorm(out_channels, weights);
  _activation = activations::Activation::get_activation(activation_config);
  if (_activation == nullptr)
    throw std::runtime_error("ConvNet: unsupported activation");
  SetMaxBufferSize(kInitialBlockCapacity);
}

long ConvNetBlock::weight_count(const int in_channels, const int out_channels, const bool batchnorm,
                                const int groups) {
  const long long conv_weights = Conv1D::count_weights(in_channels, out_channels, 2, !batchnorm, groups);
  return static_cast<long>(conv_weights) + (batchnorm ? BatchNorm::weight_count(out_channels) : 0);
}

void ConvNetBlock::SetMaxBufferSize(const int maxBufferSize) {
  _conv.SetMaxBufferSize(std::max(maxBufferSize, 1));
}

void ConvNetBlock::Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames) {
  _conv.Process(input, num_frames);
  auto z = _conv.GetOutput().leftCols(num_frames);
  if (_batchnorm)
    _batchnorm_params.apply(z);
  _activation->apply(z);
}

// ConvNet ================================================================================================

ConvNet::ConvNet(const int in_channels, const int out_channels, const int channels,
                 const std::vector<int>& dilations, const bool batchnorm,
                 const activations::ActivationConfig& activation_config, std::vector<float>& weights,
                 const double expected_sample_rate, const int groups) :
    DSP(in_channels, out_channels, expected_sample_rate) {
  if (channels < 1)
    throw std::runtime_error("ConvNet: channels must be positive, got " + std::to_string(channels));
  if (dilations.empty())
    throw std::runtime_error("ConvNet: dilations must not be empty");
  for (const int d : dilations)
    if (d < 0)
      throw std::runtime_error("ConvNet: dilations must not be negative, got " + std::to_string(d));
  check_conv_groups(in_channels, channels, groups);

  long long expected = Conv1D::count_weights(channels, out_channels, 1, true, 1);
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
  _head.set_size_and_weights_(channels, out_channels, 1, 1, true, 1, it);

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
  _head.SetMaxBufferSize(_block_capacity);
  _input.setZero(NumInputChannels(), _block_capacity);
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
  for (int c = 0; c < NumInputChannels(); ++c)
    for (int t = 0; t < num_frames; ++t)
      _input(c, t) = static_cast<float>(input[c][t]);

  const Eigen::MatrixXf* block_input = &_input;
  for (auto& block : _blocks) {
    block.Process(*block_input, num_frames);
    block_input = &block.GetOutput();
  }
  _head.Process(*block_input, num_frames);

  const Eigen::MatrixXf& head_output = _head.GetOutput();
  for (int o = 0; o < NumOutputChannels(); ++o)
    for (int t = 0; t < num_frames; ++t)
      output[o][t] = static_cast<NAM_SAMPLE>(head_output(o, t));
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
  // Each block's kernel-2 conv (a dense matrix per tap, and the diagonal blocks once more as the kernels use
  // them), its batchnorm and outputs, plus the history (Conv1D keeps room for twice its lookback after it).
  const double channels = parsed.channels;
  const double block_floats =
      2.0 * channels * channels + 2.0 * channels * (channels / parsed.groups) + 8.0 * channels;
  check_model_bytes(sizeof(float) * (parsed.dilations.size() * block_floats + 3.0 * history +
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
