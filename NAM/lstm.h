#pragma once
/// \file lstm.h
/// \brief The "LSTM" architecture: stacked LSTM layers followed by a linear head, run sample by sample.

#include <memory>
#include <vector>

#include "aligned_vector.h"

#include <Eigen/Dense>

#include "dsp.h"

namespace nam {
namespace lstm {

/// \brief What a layer kernel needs to advance one LSTM layer over a run of frames.
///
/// `weights` is the gate matrix stored column by column: column `j` holds the `4 * hidden_size` gate rows
/// that multiply input value `j` (for `j < input_size`) or previous hidden value `j - input_size`, in the
/// kernels' order (units in blocks, each block's i, f, g and o rows in turn: lstm.cpp's gate_row). `bias`
/// and `gates` are in the same order. `hidden` and `cell` are the layer's state, updated in place.
struct LayerView {
  const float* weights; ///< 4 * hidden_size * (input_size + hidden_size), column by column (see above)
  const float* bias;    ///< 4 * hidden_size
  float* hidden;        ///< hidden_size
  float* cell;          ///< hidden_size
  float* gates;         ///< 4 * hidden_size of scratch
  int input_size;       ///< values per input frame
  int hidden_size;      ///< H
};

/// \brief Advances a layer over `num_frames` frames. `input` holds `input_size` values per frame, frame after
/// frame; the hidden state after each frame is written to `hidden_out` (`hidden_size` values per frame).
using LayerKernel = void (*)(const LayerView& layer, const float* input, float* hidden_out, int num_frames);
/// \brief Advances two stacked layers of the same hidden size over the same `num_frames` frames, with the
/// outputs of LayerKernel on `lower` and then on `upper` (whose input is `lower_out`). `upper_out` may be
/// `input`.
using LayerPairKernel = void (*)(const LayerView& lower, const LayerView& upper, const float* input,
                                 float* lower_out, float* upper_out, int num_frames);

/// \brief The head of one output channel over `num_frames` frames: `out[t] = bias + sum_k weight[k] *
/// hidden[t * hidden_size + k]`. Frames go in groups of up to 16, so `hidden` must be readable for
/// `num_frames` rounded up to 16 frames plus 16 floats (what lies past the frames does not change the
/// result), `weight` up to `hidden_size` rounded up to 16 floats (zeros past `hidden_size`), and `out`
/// writable up to `num_frames` rounded up to 16.
using HeadKernel = void (*)(const float* weight, float bias, const float* hidden, int hidden_size,
                            int num_frames, float* out);

struct LayerKernels; // a kernel in its exact and fast-tanh forms (lstm.cpp)

/// \brief One LSTM layer (PyTorch gate order i, f, g, o) with its state.
class LSTMCell {
public:
  /// \brief Reads, from `weights` (advanced past them), the (4H x (input_size + H)) row-major gate matrix,
  /// the 4H gate biases, then the initial hidden and cell states (H each). The caller checks that enough
  /// weights are left.
  LSTMCell(const int input_size, const int hidden_size, std::vector<float>::iterator& weights);

  /// \brief The hidden state after the last processed frame (a view, no copy).
  Eigen::Map<const Eigen::VectorXf> get_hidden_state() const {
    return Eigen::Map<const Eigen::VectorXf>(_hidden.data(), _hidden_size);
  }
  /// \brief The cell state after the last processed frame (a view, no copy).
  Eigen::Map<const Eigen::VectorXf> get_cell_state() const {
    return Eigen::Map<const Eigen::VectorXf>(_cell.data(), _hidden_size);
  }

  /// \brief Advances the layer by one frame whose input is `x` (`input_size` values).
  void process_(const Eigen::Ref<const Eigen::VectorXf>& x);

  /// \brief Advances the layer over `num_frames` frames (see LayerKernel). Real-time safe.
  void process_frames_(const float* input, float* hidden_out, const int num_frames);

  /// \brief Returns the hidden and cell states to the initial values read from the weights.
  void reset_state_();

  /// \brief Values per input frame.
  int get_input_size() const { return _input_size; }
  /// \brief H: size of the hidden and cell states.
  int get_hidden_size() const { return _hidden_size; }
  /// \brief The kernel chosen for this layer, e.g. `lstm_layer_h24__avx2`, or `lstm_layer_hN__baseline` for a
  /// hidden size without a fused kernel.
  const char* kernel_name() const;

private:
  friend class LSTM;
  /// \brief Advances `lower` and then `upper`, stacked on it (the same hidden size, upper's input being
  /// lower's hidden state, as an LSTM's layers are), over `num_frames` frames, as process_frames_ on each
  /// would, but in one pass that overlaps their recurrences (see LayerPairKernel; `upper_out` may be
  /// `input`). Real-time safe.
  static void process_frame_pairs_(LSTMCell& lower, LSTMCell& upper, const float* input, float* lower_out,
                                   float* upper_out, const int num_frames);

  LayerView view();

  int _input_size;
  int _hidden_size;
  AlignedVector<float> _weights_by_column;
  AlignedVector<float> _bias;
  std::vector<float> _initial_hidden;
  std::vector<float> _initial_cell;
  AlignedVector<float> _hidden;
  AlignedVector<float> _cell;
  AlignedVector<float> _gates;
  std::vector<float> _single_frame_out; // hidden_out for process_()
  const LayerKernels* _kernels;         // chosen at construction from the hidden size and the CPU
};

/// \brief Stacked LSTM layers and a linear head: `y_t = W_head h_t + b_head`, where `h_t` is the last
/// layer's hidden state. With no layers the input channels are passed through.
///
/// The gate nonlinearities follow the fast-tanh switch (`activations::Activation::enable_fast_tanh()`) at the
/// time `process()` is called. `Reset()` restores the initial states from the weights, then prewarms for half
/// a second at the expected sample rate.
class LSTM : public DSP {
public:
  /// \brief Builds the model from the flat weight list: every layer (see LSTMCell), then the head weight
  /// (out_channels x hidden_size, row-major) and bias (out_channels). Throws std::runtime_error if
  /// `in_channels != input_size` or `weights` does not hold exactly the number of values the sizes need.
  LSTM(const int in_channels, const int out_channels, const int num_layers, const int input_size,
       const int hidden_size, std::vector<float>& weights, const double expected_sample_rate = -1.0);
  ~LSTM() override;

  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override;
  /// \brief Half a second at the expected sample rate (1 sample when the rate is unknown).
  int GetPrewarmSamples() override;

  /// \brief The layers, first to last.
  const std::vector<LSTMCell>& get_layers() const { return _layers; }

protected:
  void SetMaxBufferSize(const int maxBufferSize) override;

private:
  void process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, int num_frames);

  std::vector<LSTMCell> _layers;
  int _hidden_size;
  // The head's weights: out_channels rows of hidden_size, each padded with zeros to _head_row floats.
  AlignedVector<float> _head_weight;
  int _head_row;
  std::vector<float> _head_bias;
  std::vector<float> _head_out;         // one output channel of the current piece (see HeadKernel)
  std::vector<float> _input_frames;     // the current piece's input, input_size values per frame
  std::vector<float> _hidden_frames[2]; // hidden states per frame, alternately written by successive layers
};

/// \brief A parsed LSTM config.
struct LSTMConfig : public ModelConfig {
  int num_layers = 0;   ///< `num_layers`
  int input_size = 1;   ///< `input_size`; equals in_channels
  int hidden_size = 0;  ///< `hidden_size` of every layer
  int in_channels = 1;  ///< `in_channels` (default 1)
  int out_channels = 1; ///< `out_channels` (default 1)
  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override;
};

/// \brief Reads an LSTM `config` object. Throws std::runtime_error naming the key for missing, ill-typed or
/// out-of-range values.
LSTMConfig parse_config_json(const nlohmann::json& config);
/// \brief The registered "LSTM" parser.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

} // namespace lstm
} // namespace nam
