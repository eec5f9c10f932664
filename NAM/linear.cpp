#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "builtin_architectures.h"
#include "compiler.h"
#include "config_reader.h"
#include "kernels/target_regions.h"
#include "linear.h"
#include "resource_limits.h"
#include "util.h"

namespace nam {

// --------------------------------------------------------------------------- FIR loops per instruction set

namespace detail {
namespace baseline {
inline constexpr int kFirTile = 8;
#include "fir_kernels.inc"
} // namespace baseline

#if NAM_KERNELS_X86
NAM_TARGET_REGION_AVX2
namespace avx2 {
inline constexpr int kFirTile = 16;
#  include "fir_kernels.inc"
} // namespace avx2
NAM_TARGET_REGION_END

NAM_TARGET_REGION_AVX512
namespace avx512 {
inline constexpr int kFirTile = 32;
#  include "fir_kernels.inc"
} // namespace avx512
NAM_TARGET_REGION_END
#endif

void fir_filter(const float* reversed_taps, const int taps, const float* x, float* out,
                const int num_frames) {
  NAM_CALL_FOR_SELECTED_ISA(fir, reversed_taps, taps, x, out, num_frames)
}

void complex_multiply_accumulate(std::complex<float>* accumulator, const std::complex<float>* x,
                                 const std::complex<float>* h, const int bins) {
  // std::complex<float> is laid out as float[2] (the standard guarantees it).
  NAM_CALL_FOR_SELECTED_ISA(complex_multiply_accumulate, reinterpret_cast<float*>(accumulator),
                            reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(h), bins)
}
} // namespace detail

namespace {
// Room for this many blocks (at least one receptive field) after the kept history, so that the history is
// moved back to the front only once every few blocks.
constexpr long kBlocksBetweenRewinds = 4;
constexpr int kInitialBlockCapacity = 64;
// Longest impulse response a file may ask for: about 87 s at 192 kHz. A corrupt size above it is refused by
// the parser, before the history (several times this many floats per channel) would be allocated.
constexpr int kMaxReceptiveField = 1 << 24;
// In auto mode, impulse responses longer than this use the partitioned FFT convolution.
constexpr int kLongestDirectFilter = 256;
} // namespace

Linear::Linear(const int input_channels, const int output_channels, const int taps, const bool has_bias,
               const std::vector<float>& taps_then_bias, const double trained_rate,
               const LinearImplementation convolution) :
    DSP(input_channels, output_channels, trained_rate),
    _requested_implementation(convolution) {
  if (taps < 0)
    throw std::runtime_error("Linear: receptive_field must not be negative, got " + std::to_string(taps));
  const size_t expected = static_cast<size_t>(taps) + (has_bias ? 1 : 0);
  if (taps_then_bias.size() != expected)
    throw std::runtime_error("Params vector does not match expected size based on architecture parameters: "
                             "receptive_field " +
                             std::to_string(taps) + (has_bias ? " plus a bias" : " without bias") +
                             " needs " + std::to_string(expected) + " weights, got " +
                             std::to_string(taps_then_bias.size()));
  _reversed_taps.assign(taps_then_bias.rbegin() + (has_bias ? 1 : 0), taps_then_bias.rend());
  if (has_bias)
    _bias = taps_then_bias.back();
  allocate_history(kInitialBlockCapacity);
  select_implementation();
}

Linear::~Linear() = default;

void Linear::allocate_history(const int block_capacity) {
  _block_capacity = std::max(block_capacity, 1);
  const long kept = std::max<long>(GetReceptiveField() - 1, 0);
  const long room = std::max<long>(kBlocksBetweenRewinds * _block_capacity, kept);
  const int filtered = std::min(NumInputChannels(), NumOutputChannels());
  _history.assign(filtered, std::vector<float>(kept + room, 0.0f));
  _filtered.assign(_block_capacity, 0.0f);
  _write_position = kept;
}

void Linear::SetMaxBufferSize(const int maxBufferSize) {
  DSP::SetMaxBufferSize(maxBufferSize);
  // Reset returns the filter to silence: the history is cleared along with the resize.
  allocate_history(maxBufferSize);
  select_implementation();
}

void Linear::select_implementation() {
  const int taps = GetReceptiveField();
  const bool fft = _requested_implementation == LinearImplementation::FFT ||
                   (_requested_implementation == LinearImplementation::Auto && taps > kLongestDirectFilter);
  _active_implementation = fft ? LinearImplementation::FFT : LinearImplementation::Direct;
  if (fft) {
    // Longer partitions for longer responses keep the number of spectra to accumulate moderate.
    const int partition = taps <= 1024 ? 64 : (taps <= 4096 ? 128 : (taps <= 16384 ? 256 : 512));
    _fft_convolution.configure(std::vector<float>(_reversed_taps.rbegin(), _reversed_taps.rend()), partition,
                               std::min(NumInputChannels(), NumOutputChannels()));
  }
}

void Linear::process(NAM_SAMPLE** inputs, NAM_SAMPLE** outputs, const int frames) {
  process_in_pieces(inputs, outputs, frames, _block_capacity,
                    [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { process_piece(in, out, n); });
}

void Linear::process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  if (_active_implementation == LinearImplementation::FFT) {
    const int filtered = std::min(NumInputChannels(), NumOutputChannels());
    for (int c = 0; c < filtered; ++c)
      _fft_convolution.process(c, input[c], output[c], num_frames, _bias);
    for (int c = filtered; c < NumOutputChannels(); ++c)
      std::fill(output[c], output[c] + num_frames, NAM_SAMPLE(0));
    return;
  }
  const long kept = std::max<long>(GetReceptiveField() - 1, 0);
  const long taps = GetReceptiveField();
  if (!_history.empty() && _write_position + num_frames > static_cast<long>(_history[0].size())) {
    for (auto& line : _history)
      std::copy(line.begin() + (_write_position - kept), line.begin() + _write_position, line.begin());
    _write_position = kept;
  }
  for (size_t c = 0; c < _history.size(); ++c) {
    float* line = _history[c].data();
    for (int t = 0; t < num_frames; ++t)
      line[_write_position + t] = static_cast<float>(input[c][t]);
    // Frame t's window of `taps` samples ends at the current one.
    detail::fir_filter(_reversed_taps.data(), static_cast<int>(taps), line + _write_position - kept,
                       _filtered.data(), num_frames);
    for (int t = 0; t < num_frames; ++t)
      output[c][t] = static_cast<NAM_SAMPLE>(_bias + _filtered[t]);
  }
  for (int c = static_cast<int>(_history.size()); c < NumOutputChannels(); ++c)
    std::fill(output[c], output[c] + num_frames, NAM_SAMPLE(0));
  _write_position += num_frames;
}

// ---------------------------------------------------------------------------------- PartitionedConvolution

void PartitionedConvolution::configure(const std::vector<float>& taps, const int partition,
                                       const int channels) {
  _partition = partition;
  const int total = static_cast<int>(taps.size());
  const int head = std::min(total, partition);
  _head_taps_reversed.assign(taps.rend() - head, taps.rend());
  _tail_partitions = total > partition ? (total - partition + partition - 1) / partition : 0;
  const int bins = partition + 1;
  const int fft_size = 2 * partition;
  _fft.SetFlag(Eigen::FFT<float>::HalfSpectrum);
  _time_scratch.assign(fft_size, 0.0f);
  _accumulator.assign(bins, Complex(0.0f, 0.0f));
  _head_sums.assign(partition, 0.0f);
  _tail_spectra.assign(static_cast<size_t>(_tail_partitions) * bins, Complex(0.0f, 0.0f));
  for (int m = 0; m < _tail_partitions; ++m) {
    std::fill(_time_scratch.begin(), _time_scratch.end(), 0.0f);
    const int first = (m + 1) * partition;
    const int count = std::min(partition, total - first);
    std::copy(taps.begin() + first, taps.begin() + first + count, _time_scratch.begin());
    _fft.fwd(_tail_spectra.data() + static_cast<size_t>(m) * bins, _time_scratch.data(), fft_size);
  }
  // One inverse transform now, so that the FFT's plans and scratch buffers exist before process().
  _fft.inv(_time_scratch.data(), _accumulator.data(), fft_size);
  _channels.assign(channels, ChannelState());
  reset();
}

void PartitionedConvolution::reset() {
  const int p = _partition;
  for (ChannelState& state : _channels) {
    state.head_history.assign(2 * p - 1, 0.0f);
    state.previous_and_current.assign(2 * p, 0.0f);
    state.spectra.assign(static_cast<size_t>(std::max(_tail_partitions, 1)) * (p + 1), Complex(0.0f, 0.0f));
    state.tail.assign(p, 0.0f);
    state.filled = 0;
    state.newest = 0;
  }
}

void PartitionedConvolution::finish_partition(ChannelState& state) {
  const int p = _partition;
  const int bins = p + 1;
  if (_tail_partitions > 0) {
    state.newest = (state.newest + 1) % _tail_partitions;
    _fft.fwd(state.spectra.data() + static_cast<size_t>(state.newest) * bins,
             state.previous_and_current.data(), 2 * p);
    // The newest input spectrum meets the first tail partition, the one before it the second, and so on.
    std::fill(_accumulator.begin(), _accumulator.end(), Complex(0.0f, 0.0f));
    for (int m = 0; m < _tail_partitions; ++m) {
      const int slot = (state.newest - m + _tail_partitions) % _tail_partitions;
      detail::complex_multiply_accumulate(_accumulator.data(),
                                          state.spectra.data() + static_cast<size_t>(slot) * bins,
                                          _tail_spectra.data() + static_cast<size_t>(m) * bins, bins);
    }
    _fft.inv(_time_scratch.data(), _accumulator.data(), 2 * p);
    std::copy(_time_scratch.begin() + p, _time_scratch.end(), state.tail.begin());
  }
  std::copy(state.previous_and_current.begin() + p, state.previous_and_current.end(),
            state.previous_and_current.begin());
  std::copy(state.head_history.begin() + p, state.head_history.end(), state.head_history.begin());
  state.filled = 0;
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
  // Every channel keeps its own history (direct) or input spectra (FFT), each a few times the receptive
  // field: the taps are shared, so a small file can ask for channels x receptive field floats.
  const double floats_per_channel = 4.0 * parsed.receptive_field + 4096.0;
  check_model_bytes(sizeof(float) *
                        (floats_per_channel * (std::max(parsed.in_channels, parsed.out_channels) + 1)),
                    "This Linear model");
  return parsed;
}

std::unique_ptr<DSP> LinearConfig::create(std::vector<float> weights, double sampleRate) {
  return std::make_unique<Linear>(in_channels, out_channels, receptive_field, bias, weights, sampleRate,
                                  implementation);
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config_object,
                                           double /*expected_sample_rate*/) {
  return std::make_unique<LinearConfig>(parse_config_json(config_object));
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("Linear", create_config);
}

} // namespace linear
} // namespace nam
