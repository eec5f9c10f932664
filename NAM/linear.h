#pragma once
/// \file linear.h
/// \brief The "Linear" architecture: a finite impulse response (an FIR filter) applied to every channel.

#include <memory>
#include <string>
#include <vector>

#include "dsp.h"
#include "partitioned_convolution.h"

namespace nam {

/// \brief How a Linear model computes its convolution.
enum class LinearImplementation {
  Auto,   ///< Chosen from the impulse-response length.
  Direct, ///< Sum over the taps for every sample.
  FFT     ///< Zero-latency partitioned FFT convolution.
};

/// \brief `y_c[t] = bias + sum_j h[j] * x_c[t - j]` for each channel `c < min(in, out)`; further output
/// channels are silent. The weights hold `h[0..receptive_field-1]` (h[0] multiplies the current sample) and
/// then the bias if there is one.
class Linear : public DSP {
public:
  /// `taps_then_bias` holds the impulse response, then the bias when `has_bias`; throws std::runtime_error
  /// unless it holds exactly `taps + (has_bias ? 1 : 0)` values.
  Linear(int input_channels, int output_channels, int taps, bool has_bias,
         const std::vector<float>& taps_then_bias, double trained_rate = -1.0,
         LinearImplementation convolution = LinearImplementation::Auto);
  ~Linear() override;

  /// \brief Number of taps of the impulse response.
  int GetReceptiveField() const { return static_cast<int>(_reversed_taps.size()); }
  /// \brief The implementation in use after the last Reset.
  LinearImplementation GetActiveImplementation() const { return _active_implementation; }
  /// \brief The implementation asked for at construction (possibly Auto).
  LinearImplementation GetRequestedImplementation() const { return _requested_implementation; }

  void process(NAM_SAMPLE** inputs, NAM_SAMPLE** outputs, int frames) override;

protected:
  void SetMaxBufferSize(const int maxBufferSize) override;

private:
  void allocate_history(int block_capacity);
  /// Picks the active implementation (auto: FFT above 256 taps) and prepares it. Allocates.
  void select_implementation();
  void process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, int num_frames);

  // Taps in reverse order, so that output t is a dot product with the contiguous input window ending at t.
  std::vector<float> _reversed_taps;
  float _bias = 0.0f;
  LinearImplementation _requested_implementation;
  LinearImplementation _active_implementation = LinearImplementation::Direct;
  // Per filtered channel: the last (receptive_field - 1) inputs followed by room for new blocks.
  std::vector<std::vector<float>> _history;
  std::vector<float> _filtered;            // one channel's filtered piece, before the bias and conversion
  long _write_position = 0;                // where the next input sample goes (same for every channel)
  int _block_capacity = 0;                 // largest piece process() hands to process_piece()
  PartitionedConvolution _fft_convolution; // used when the active implementation is FFT
};

namespace linear {

/// \brief A parsed Linear config: the keys of its `config` object, with their defaults.
struct LinearConfig : public ModelConfig {
  /// \brief Builds the model from the file's flat weight list.
  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override;

  int receptive_field = 0; ///< `receptive_field`: number of taps
  int in_channels = 1;     ///< `in_channels` (default 1)
  int out_channels = 1;    ///< `out_channels` (default 1)
  bool bias = false;       ///< `bias`: a bias follows the taps in the weights
  LinearImplementation implementation = LinearImplementation::Auto; ///< `implementation` (default auto)
};

/// \brief The registered "Linear" parser: parse_config_json (the sample rate plays no part in it).
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config_object, double expected_sample_rate);
/// \brief Reads a Linear `config` object. Throws std::runtime_error naming the key for bad values.
LinearConfig parse_config_json(const nlohmann::json& config_object);

/// \brief "auto", "direct" or "fft".
std::string implementation_to_string(LinearImplementation which);
/// \brief Reads an `implementation` value (case-insensitive: auto; direct, legacy, old; fft,
/// partitioned_fft, partitioned-fft). Throws std::runtime_error for anything else.
LinearImplementation parse_implementation(const std::string& text);

} // namespace linear
} // namespace nam
