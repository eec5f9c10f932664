#include <algorithm>
#include <stdexcept>

#include "builtin_architectures.h"
#include "config_reader.h"
#include "linear.h"
#include "util.h"

namespace nam {

namespace {
// Room for this many blocks (at least one receptive field) after the kept history, so that the history is
// moved back to the front only once every few blocks.
constexpr long kBlocksBetweenRewinds = 4;
constexpr int kInitialBlockCapacity = 64;
// Longest impulse response a file may ask for: about 87 s at 192 kHz. A corrupt size above it is refused by
// the parser, before the history (several times this many floats per channel) would be allocated.
constexpr int kMaxReceptiveField = 1 << 24;
} // namespace

Linear::Linear(const int in_channels, const int out_channels, const int receptive_field, const bool _bias,
               const std::vector<float>& weights, const double expected_sample_rate,
               const LinearImplementation implementation) :
    DSP(in_channels, out_channels, expected_sample_rate),
    _requested_implementation(implementation) {
  if (receptive_field < 0)
    throw std::runtime_error("Linear: receptive_field must not be negative, got " +
                             std::to_string(receptive_field));
  const size_t expected = static_cast<size_t>(receptive_field) + (_bias ? 1 : 0);
  if (weights.size() != expected)
    throw std::runtime_error("Params vector does not match expected size based on architecture parameters: "
                             "receptive_field " +
                             std::to_string(receptive_field) + (_bias ? " plus a bias" : " without bias") +
                             " needs " + std::to_string(expected) + " weights, got " +
                             std::to_string(weights.size()));
  _reversed_taps.assign(weights.rbegin() + (_bias ? 1 : 0), weights.rend());
  if (_bias)
    this->_bias = weights.back();
  allocate_history(kInitialBlockCapacity);
}

Linear::~Linear() = default;

void Linear::allocate_history(const int block_capacity) {
  _block_capacity = std::max(block_capacity, 1);
  const long kept = std::max<long>(GetReceptiveField() - 1, 0);
  const long room = std::max<long>(kBlocksBetweenRewinds * _block_capacity, kept);
  const int filtered = std::min(NumInputChannels(), NumOutputChannels());
  _history.assign(filtered, std::vector<float>(kept + room, 0.0f));
  _write_position = kept;
}

void Linear::SetMaxBufferSize(const int maxBufferSize) {
  DSP::SetMaxBufferSize(maxBufferSize);
  // Reset returns the filter to silence: the history is cleared along with the resize.
  allocate_history(maxBufferSize);
  _active_implementation = LinearImplementation::Direct;
}

void Linear::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  process_in_pieces(input, output, num_frames, _block_capacity,
                    [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { process_piece(in, out, n); });
}

void Linear::process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  const long kept = std::max<long>(GetReceptiveField() - 1, 0);
  const long taps = GetReceptiveField();
  if (!_history.empty() && _write_position + num_frames > static_cast<long>(_history[0].size())) {
    for (auto& line : _history)
      std::copy(line.begin() + (_write_position - kept), line.begin() + _write_position, line.begin());
    _write_position = kept;
  }
  const Eigen::Map<const Eigen::VectorXf> kernel(_reversed_taps.data(), taps);
  for (size_t c = 0; c < _history.size(); ++c) {
    float* line = _history[c].data();
    for (int t = 0; t < num_frames; ++t)
      line[_write_position + t] = static_cast<float>(input[c][t]);
    for (int t = 0; t < num_frames; ++t) {
      // The window of `taps` samples ending at the current one.
      const float* window = line + _write_position + t - kept;
      const float filtered = taps == 0 ? 0.0f : kernel.dot(Eigen::Map<const Eigen::VectorXf>(window, taps));
      output[c][t] = static_cast<NAM_SAMPLE>(_bias + filtered);
    }
  }
  for (int c = static_cast<int>(_history.size()); c < NumOutputChannels(); ++c)
    std::fill(output[c], output[c] + num_frames, NAM_SAMPLE(0));
  _write_position += num_frames;
}

namespace linear {

LinearImplementation parse_implementation(const std::string& implementation) {
  const std::string name = util::lowercase(implementation);
  if (name == "auto")
    return LinearImplementation::Auto;
  if (name == "direct" || name == "legacy" || name == "old")
    return LinearImplementation::Direct;
  if (name == "fft" || name == "partitioned_fft" || name == "partitioned-fft")
    return LinearImplementation::FFT;
  throw std::runtime_error("Unsupported Linear implementation: " + implementation +
                           " (expected auto, direct or fft)");
}

std::string implementation_to_string(const LinearImplementation implementation) {
  switch (implementation) {
  case LinearImplementation::Direct:
    return "direct";
  case LinearImplementation::FFT:
    return "fft";
  case LinearImplementation::Auto:
    break;
  }
  return "auto";
}

LinearConfig parse_config_json(const nlohmann::json& config) {
  const ConfigReader reader(config, "config");
  LinearConfig parsed;
  parsed.receptive_field = reader.get_int("receptive_field", 0, kMaxReceptiveField);
  parsed.bias = reader.get_bool("bias");
  parsed.in_channels = reader.get_int_or("in_channels", 1, 1, kMaxChannels);
  parsed.out_channels = reader.get_int_or("out_channels", 1, 1, kMaxChannels);
  if (reader.has("implementation")) {
    try {
      parsed.implementation = parse_implementation(reader.get_string("implementation"));
    } catch (const std::runtime_error& e) {
      reader.fail("implementation", e.what());
    }
  }
  return parsed;
}

std::unique_ptr<DSP> LinearConfig::create(std::vector<float> weights, double sampleRate) {
  return std::make_unique<Linear>(in_channels, out_channels, receptive_field, bias, weights, sampleRate,
                                  implementation);
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double /*sampleRate*/) {
  return std::make_unique<LinearConfig>(parse_config_json(config));
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("Linear", create_config);
}

} // namespace linear
} // namespace nam
