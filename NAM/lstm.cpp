#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

#include "activations.h"
#include "builtin_architectures.h"
#include "compiler.h"
#include "config_reader.h"
#include "kernels/isa.h"
#include "kernels/registry.h"
#include "kernels/target_regions.h"
#include "lstm.h"
#include "resource_limits.h"

#if NAM_KERNELS_X86
#  include <immintrin.h> // fused_multiply_add (kernels/simd.h), used only inside its target regions
#endif

namespace nam {
namespace lstm {

namespace {
/// The hidden sizes that get a kernel with compile-time bounds (the trainer's presets, and every size below
/// 8, whose short loops gain most from fixed bounds): the only list.
using FusedHiddenSizes = std::integer_sequence<int, 24, 16, 12, 8, 7, 6, 5, 4, 3, 2, 1>;

// Layers refused before anything is allocated (widths are bounded by kMaxChannels).
constexpr int kMaxLayers = 1024;
// process() works through its block this many frames at a time, layer by layer.
constexpr int kFramesPerPiece = 128;
// The widest vector of any instruction set, in floats: the head's frame groups and weight padding
// (HeadKernel).
constexpr int kWidestVector = 16;
static_assert(kFramesPerPiece % kWidestVector == 0, "the head's last group of frames ends within the piece");

// The gates in PyTorch's order (the file's row blocks i, f, g, o); g is the candidate cell value.
constexpr int kCandidateGate = 2;

/// \brief The factor by which the kernels' weights and bias scale a gate's rows: 0.5 on the sigmoid gates
/// (i, f, o), whose fast form is 0.5 fast_tanh(x / 2) + 0.5, so that their sums come out as x / 2 with no
/// multiplication on the recurrence's path. A power of two: each product and sum is exactly half of the
/// file's (unless it falls below FLT_MIN, about 1.2e-38, and is flushed), and the exact sigmoid takes 2 * it.
constexpr float gate_sum_scale(const int gate) {
  return gate == kCandidateGate ? 1.0f : 0.5f;
}

/// \brief Where the kernels keep gate `gate` of hidden unit `unit`. The units go in blocks of
/// `units_per_block` (the last one shorter), each block holding its units' i, f, g and o rows in turn.
constexpr int gate_row(const int gate, const int unit, const int hidden_size, const int units_per_block) {
  const int first = unit / units_per_block * units_per_block;
  const int count = std::min(units_per_block, hidden_size - first);
  return 4 * first + gate * count + (unit - first);
}

/// \brief The blocks of gate_row for a hidden size on vectors of `vector_floats`. Where H is not a multiple
/// of the vector, the file's order (all i rows, then all f, ...) puts two gates in one vector (at H = 24 in
/// 16-float vectors, i 16-23 and f 0-7): the state update's reads of f 0-15 would straddle two stores,
/// which the CPU cannot forward to a load. Blocks one vector wide keep each gate of a block in the vector
/// that computed it: lstm-1x24 at AVX-512 1.10x, lstm-1x12 at AVX2 1.08x. Where H is a multiple, the file's
/// order is kept: blocks of 4 at SSE2 were 1.25x slower.
constexpr int units_per_block(const int hidden_size, const int vector_floats) {
  return hidden_size > 0 && hidden_size % vector_floats == 0 ? hidden_size : vector_floats;
}
} // namespace

// Each instruction set states the most gate rows it accumulates in registers at once (see
// gate_rows_per_chunk): AVX-512's 32 registers of 16 floats hold all 4H rows of the presets; the floats in
// one of its vectors (units_per_block); and whether it has fused multiply-adds for the gate sums (see
// fused_gate_sums) and fast tanh (fast_tanh_here): at baseline only when the build targets FMA.
namespace baseline {
inline constexpr int kMostRowsPerChunk = 32;
inline constexpr int kLanes = 4;
inline constexpr bool kFusedMultiplyAdd = NAM_KERNELS_FUSE_MULTIPLY_ADD;
#include "kernels/simd.h"
#include "lstm_head_kernel.inc"
#include "lstm_layer_kernel.inc"
} // namespace baseline

#if NAM_KERNELS_X86
NAM_TARGET_REGION_AVX2
namespace avx2 {
inline constexpr int kMostRowsPerChunk = 32;
inline constexpr int kLanes = 8;
inline constexpr bool kFusedMultiplyAdd = true;
#  include "kernels/simd.h"
#  include "lstm_head_kernel.inc"
#  include "lstm_layer_kernel.inc"
} // namespace avx2
NAM_TARGET_REGION_END

NAM_TARGET_REGION_AVX512
namespace avx512 {
inline constexpr int kMostRowsPerChunk = 96;
inline constexpr int kLanes = 16;
inline constexpr bool kFusedMultiplyAdd = true;
#  include "kernels/simd.h"
#  include "lstm_head_kernel.inc"
#  include "lstm_layer_kernel.inc"
} // namespace avx512
NAM_TARGET_REGION_END
#endif

/// \brief A layer kernel in its exact and fast-tanh forms.
struct LayerKernels {
  LayerKernel exact;
  LayerKernel fast;
  LayerPairKernel exact_pair;
  LayerPairKernel fast_pair;
  HeadKernel head;
  int hidden_size;   // 0: any size
  int vector_floats; // the kernels' gate rows are laid out by gate_row in blocks of units_per_block
  kernels::Isa isa;
  std::string name;
};

namespace {

/// \brief The instruction set of the kernels a new layer of this hidden size uses: the best the kernel ISA
/// cap (kernels/isa.h) allows, except that states narrower than 16 run AVX2 on AVX-512 CPUs: their gate
/// updates fill 16-float vectors badly. Measured here (ms per 2 s, AVX2 / AVX-512): H = 24 14.0 / 11.4,
/// H = 16 10.3 / 7.9, H = 12 6.3 / 10.9, H = 8 (2 layers) 9.8 / 11.2.
kernels::Isa layer_isa(const int hidden_size) {
  const kernels::Isa selected = kernels::selected_isa();
  return selected == kernels::Isa::avx512 && hidden_size < 16 ? kernels::Isa::avx2 : selected;
}

template <class Table, int... kSizes>
void add_kernels(std::vector<LayerKernels>& table, const kernels::Isa isa,
                 std::integer_sequence<int, kSizes...>) {
  const int sizes[] = {kSizes..., 0};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    std::string name = "lstm_layer_h";
    name += sizes[i] > 0 ? std::to_string(sizes[i]) : std::string("N");
    name += "__";
    name += kernels::isa_name(isa);
    table.push_back({Table::exact[i], Table::fast[i], Table::exact_pair[i], Table::fast_pair[i], Table::head,
                     sizes[i], Table::vector_floats, isa, std::move(name)});
  }
}

const std::vector<LayerKernels>& all_kernels() {
  static const std::vector<LayerKernels> kernels = [] {
    std::vector<LayerKernels> table;
    add_kernels<baseline::LayerKernelTable<FusedHiddenSizes>>(table, kernels::Isa::baseline,
                                                              FusedHiddenSizes{});
#if NAM_KERNELS_X86
    add_kernels<avx2::LayerKernelTable<FusedHiddenSizes>>(table, kernels::Isa::avx2, FusedHiddenSizes{});
    add_kernels<avx512::LayerKernelTable<FusedHiddenSizes>>(table, kernels::Isa::avx512, FusedHiddenSizes{});
#endif
    return table;
  }();
  return kernels;
}

/// \brief The fused kernel for this hidden size on the best allowed ISA, else (or when the generic path is
/// forced, see kernels::set_force_generic) that ISA's any-size kernel.
const LayerKernels* pick_layer_kernels(const int hidden_size) {
  const kernels::Isa isa = layer_isa(hidden_size);
  const bool fused_allowed = !kernels::force_generic();
  const LayerKernels* any_size = nullptr;
  for (const LayerKernels& k : all_kernels()) {
    if (k.isa != isa)
      continue;
    if (fused_allowed && k.hidden_size == hidden_size && hidden_size > 0)
      return &k;
    if (k.hidden_size == 0)
      any_size = &k;
  }
  return any_size;
}

std::vector<float> take(std::vector<float>::iterator& weights, const long count) {
  std::vector<float> values(weights, weights + count);
  weights += count;
  return values;
}

} // namespace

// LSTMCell ===============================================================================================

LSTMCell::LSTMCell(const int input_size, const int hidden_size, std::vector<float>::iterator& weights) :
    _input_size(input_size),
    _hidden_size(hidden_size) {
  if (input_size < 0 || hidden_size < 0 || (input_size == 0 && hidden_size > 0))
    throw std::runtime_error(
        "LSTMCell: input_size must be positive and hidden_size must not be negative, got " +
        std::to_string(input_size) + " and " + std::to_string(hidden_size));
  const long rows = 4L * hidden_size;
  const long columns = static_cast<long>(input_size) + hidden_size;
  _kernels = pick_layer_kernels(hidden_size);
  // The file stores the gate matrix row by row, gate after gate; the kernels read it column by column, their
  // rows laid out by gate_row and scaled by gate_sum_scale.
  std::vector<long> kernel_row(rows);
  for (int gate = 0; gate < 4; ++gate)
    for (int unit = 0; unit < hidden_size; ++unit)
      kernel_row[static_cast<long>(gate) * hidden_size + unit] =
          gate_row(gate, unit, hidden_size, units_per_block(hidden_size, _kernels->vector_floats));
  // File row r belongs to gate r / hidden_size.
  const auto row_scale = [hidden_size](const long r) {
    return gate_sum_scale(static_cast<int>(r / hidden_size));
  };
  _weights_by_column.resize(rows * columns);
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < columns; ++j)
      _weights_by_column[j * rows + kernel_row[r]] = row_scale(r) * *(weights++);
  _bias.resize(rows);
  for (long r = 0; r < rows; ++r)
    _bias[kernel_row[r]] = row_scale(r) * *(weights++);
  _initial_hidden = take(weights, hidden_size);
  _initial_cell = take(weights, hidden_size);
  _gates.assign(rows, 0.0f);
  _single_frame_out.assign(hidden_size, 0.0f);
  reset_state_();
}

void LSTMCell::reset_state_() {
  _hidden.assign(_initial_hidden.begin(), _initial_hidden.end());
  _cell.assign(_initial_cell.begin(), _initial_cell.end());
}

LayerView LSTMCell::view() {
  return {_weights_by_column.data(),
          _bias.data(),
          _hidden.data(),
          _cell.data(),
          _gates.data(),
          _input_size,
          _hidden_size};
}

void LSTMCell::process_frames_(const float* input, float* hidden_out, const int num_frames) {
  const LayerKernel kernel = activations::Activation::using_fast_tanh ? _kernels->fast : _kernels->exact;
  kernel(view(), input, hidden_out, num_frames);
}

void LSTMCell::process_frame_pairs_(LSTMCell& lower, LSTMCell& upper, const float* input, float* lower_out,
                                    float* upper_out, const int num_frames) {
  // Layers of one hidden size share their kernels; both run at one instruction set.
  const bool fast = activations::Activation::using_fast_tanh;
  const LayerPairKernel kernel = fast ? lower._kernels->fast_pair : lower._kernels->exact_pair;
  kernel(lower.view(), upper.view(), input, lower_out, upper_out, num_frames);
}

void LSTMCell::process_(const Eigen::Ref<const Eigen::VectorXf>& x) {
  if (x.size() != _input_size)
    throw std::runtime_error("LSTMCell::process_: expected " + std::to_string(_input_size) +
                             " input values, got " + std::to_string(x.size()));
  process_frames_(x.data(), _single_frame_out.data(), 1);
}

const char* LSTMCell::kernel_name() const {
  return _kernels->name.c_str();
}

// LSTM ===================================================================================================

LSTM::LSTM(const int in_channels, const int out_channels, const int num_layers, const int input_size,
           const int hidden_size, std::vector<float>& weights, const double expected_sample_rate) :
    DSP(in_channels, out_channels, expected_sample_rate),
    _hidden_size(hidden_size) {
  if (num_layers < 0 || input_size < 0 || hidden_size < 0)
    throw std::runtime_error("LSTM: num_layers, input_size and hidden_size must not be negative");
  if (in_channels != input_size)
    throw std::runtime_error("LSTM: input_size (" + std::to_string(input_size) +
                             ") must equal the number of input channels (" + std::to_string(in_channels) +
                             ")");
  // Count in 64 bits and compare before reading anything, so a wrong config cannot read past the end.
  long long expected = static_cast<long long>(out_channels) * hidden_size + out_channels;
  for (int l = 0; l < num_layers; ++l) {
    const long long layer_input = l == 0 ? input_size : hidden_size;
    expected += 4LL * hidden_size * (layer_input + hidden_size) + 4LL * hidden_size + 2LL * hidden_size;
  }
  if (expected != static_cast<long long>(weights.size()))
    throw std::runtime_error("LSTM: the weights do not match the config: num_layers " +
                             std::to_string(num_layers) + ", input_size " + std::to_string(input_size) +
                             ", hidden_size " + std::to_string(hidden_size) + " and out_channels " +
                             std::to_string(out_channels) + " need " + std::to_string(expected) +
                             " weights, got " + std::to_string(weights.size()));

  auto it = weights.begin();
  _layers.reserve(num_layers);
  for (int l = 0; l < num_layers; ++l)
    _layers.emplace_back(l == 0 ? input_size : hidden_size, hidden_size, it);
  _head_row = (hidden_size + kWidestVector - 1) / kWidestVector * kWidestVector;
  _head_weight.assign(static_cast<size_t>(out_channels) * _head_row, 0.0f);
  for (int o = 0; o < out_channels; ++o)
    for (int k = 0; k < hidden_size; ++k)
      _head_weight[static_cast<size_t>(o) * _head_row + k] = *(it++);
  _head_bias = take(it, out_channels);
  _head_out.assign(kFramesPerPiece, 0.0f);

  _input_frames.assign(static_cast<size_t>(kFramesPerPiece) * input_size, 0.0f);
  // The head's groups of frames end within the piece; its last vector reads up to kWidestVector floats past
  // the piece's last frame (HeadKernel).
  for (auto& frames : _hidden_frames)
    frames.assign(static_cast<size_t>(kFramesPerPiece) * hidden_size + kWidestVector, 0.0f);
}

LSTM::~LSTM() = default;

int LSTM::GetPrewarmSamples() {
  // Half a second of the rate the model was trained at; one sample if that rate is unknown.
  const int samples = static_cast<int>(0.5 * mExpectedSampleRate);
  return samples <= 0 ? 1 : samples;
}

void LSTM::SetMaxBufferSize(const int maxBufferSize) {
  DSP::SetMaxBufferSize(maxBufferSize);
  // Nothing depends on the block size; a Reset returns the layers to their initial states.
  for (auto& layer : _layers)
    layer.reset_state_();
}

void LSTM::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  if (_layers.empty()) {
    DSP::process(input, output, num_frames); // pass-through, as the original
    return;
  }
  process_in_pieces(input, output, num_frames, kFramesPerPiece,
                    [this](NAM_SAMPLE** in, NAM_SAMPLE** out, int n) { process_piece(in, out, n); });
}

void LSTM::process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  const int inputs = NumInputChannels();
  for (int c = 0; c < inputs; ++c)
    for (int t = 0; t < num_frames; ++t)
      _input_frames[static_cast<size_t>(t) * inputs + c] = static_cast<float>(input[c][t]);

  // Layer by layer over the whole piece (layer l only needs layer l - 1's hidden states of the same frames),
  // two at a time where there are two, in one pass that overlaps their recurrences.
  const float* layer_input = _input_frames.data();
  float* hidden = nullptr;
  size_t l = 0;
  for (; l + 1 < _layers.size(); l += 2) {
    float* lower_out = _hidden_frames[0].data();
    hidden = _hidden_frames[1].data(); // may hold this pair's input: the kernel allows that
    LSTMCell::process_frame_pairs_(_layers[l], _layers[l + 1], layer_input, lower_out, hidden, num_frames);
    layer_input = hidden;
  }
  if (l < _layers.size()) {
    hidden = _hidden_frames[0].data(); // the input is _input_frames or _hidden_frames[1]
    _layers[l].process_frames_(layer_input, hidden, num_frames);
  }

  const HeadKernel head = _layers.back()._kernels->head;
  for (int o = 0; o < NumOutputChannels(); ++o) {
    head(_head_weight.data() + static_cast<size_t>(o) * _head_row, _head_bias[o], hidden, _hidden_size,
         num_frames, _head_out.data());
    for (int t = 0; t < num_frames; ++t)
      output[o][t] = static_cast<NAM_SAMPLE>(_head_out[t]);
  }
}

// Config =================================================================================================

LSTMConfig parse_config_json(const nlohmann::json& config) {
  const ConfigReader reader(config, "config");
  LSTMConfig parsed;
  parsed.num_layers = reader.get_int("num_layers", 0, kMaxLayers);
  parsed.input_size = reader.get_int("input_size", 1, kMaxChannels);
  parsed.hidden_size = reader.get_int("hidden_size", 0, kMaxChannels);
  parsed.in_channels = reader.get_int_or("in_channels", 1, 1, kMaxChannels);
  parsed.out_channels = reader.get_int_or("out_channels", 1, 1, kMaxChannels);
  if (parsed.input_size != parsed.in_channels)
    reader.fail("input_size", "must equal in_channels (" + std::to_string(parsed.in_channels) +
                                  "), since the input channels are the first layer's input; got " +
                                  std::to_string(parsed.input_size));
  // The weights (each layer's four gates over its input, hidden state and bias), kept in the file's order
  // and once more in the kernels' layout, plus the states.
  const double hidden = parsed.hidden_size;
  const double layer_floats =
      4.0 * hidden * (std::max<double>(parsed.input_size, hidden) + hidden + 1.0) + 4.0 * hidden;
  check_model_bytes(sizeof(float) *
                        (2.0 * (parsed.num_layers * layer_floats + parsed.out_channels * (hidden + 1.0))),
                    "This LSTM");
  return parsed;
}

std::unique_ptr<DSP> LSTMConfig::create(std::vector<float> weights, double sampleRate) {
  return std::make_unique<LSTM>(in_channels, out_channels, num_layers, input_size, hidden_size, weights,
                                sampleRate);
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double /*sampleRate*/) {
  return std::make_unique<LSTMConfig>(parse_config_json(config));
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("LSTM", create_config);
}

} // namespace lstm
} // namespace nam
