#pragma once
/// \file convnet.h
/// \brief The "ConvNet" architecture: a stack of dilated kernel-2 convolution blocks and a linear head.

#include <memory>
#include <string>
#include <vector>

#include "activations.h"
#include "batchnorm.h"
#include "dsp.h"

namespace nam {
namespace convnet {

/// \brief One block: a causal kernel-2 convolution (`z_t = W_0 v_{t-d} + W_1 v_t + b`, grouped), an optional
/// batch norm (then the convolution has no bias), then an activation.
///
/// The block owns its input history. Data is planar: one row of frames per channel. Per block of frames, the
/// caller writes the input into `prepare_input_()` and then calls `Process()`, which writes the block's
/// output wherever the caller asks (typically into the next block's prepared input).
class ConvNetBlock {
public:
  /// \brief Reads the convolution weights (out_channels x in_channels/groups x 2, in that order), then the
  /// bias (out_channels) or, with batchnorm, the batch norm weights (see BatchNorm), advancing `weights`. The
  /// caller checks the sizes (see ConvNet) and that enough weights are left.
  ConvNetBlock(const int in_channels, const int out_channels, const int dilation, const bool batchnorm,
               const activations::ActivationConfig& activation_config, const int groups,
               std::vector<float>::iterator& weights);

  /// \brief Number of weights a block with these sizes reads.
  static long weight_count(const int in_channels, const int out_channels, const bool batchnorm,
                           const int groups);

  /// \brief Prepares for blocks of up to `maxBufferSize` frames and clears the history (silence). Allocates.
  void SetMaxBufferSize(const int maxBufferSize);

  /// \brief Where the next `num_frames` input frames go: channel `c`'s row starts at the returned pointer
  /// plus `c * input_stride()`. `num_frames` must not exceed the prepared block size. Real-time safe.
  float* prepare_input_(const int num_frames);
  /// \brief Floats between the rows of two input channels at prepare_input_().
  long input_stride() const { return _row_length; }

  /// \brief Computes the block's output for the prepared input: out_channels rows of `num_frames` values,
  /// row `o` at `output + o * output_stride`. Real-time safe.
  void Process(const int num_frames, float* output, const long output_stride);

  /// \brief Input channel count.
  long get_in_channels() const { return _in_channels; }
  /// \brief Output channel count.
  long get_out_channels() const { return _out_channels; }
  /// \brief Frames between the past tap and the current one.
  int get_dilation() const { return _dilation; }

private:
  int _in_channels;
  int _out_channels;
  int _dilation;
  int _groups;
  std::vector<float> _weight; // per output channel, per input channel of its group: (past tap, current tap)
  std::vector<float> _bias;   // empty with batchnorm
  bool _batchnorm;
  BatchNorm _batchnorm_params;
  activations::Activation::Ptr _activation;

  // Input history, planar: each row holds _dilation past frames before _position, then the current block.
  std::vector<float> _history;
  long _row_length = 0;
  long _position = 0;
};

/// \brief The ConvNet model: blocks with the given dilations (the first block reads `in_channels`, the
/// others `channels`), then a head `y_t = W v_t + b` (out_channels x channels) without activation.
class ConvNet : public DSP {
public:
  /// \brief Builds the model from the flat weight list: every block (see ConvNetBlock), then the head weight
  /// (out_channels x channels, row-major) and bias. Throws std::runtime_error for an empty or negative
  /// dilation, channel counts not divisible by `groups`, or a weight count that does not match.
  ConvNet(const int in_channels, const int out_channels, const int channels,
          const std::vector<int>& dilations, const bool batchnorm,
          const activations::ActivationConfig& activation_config, std::vector<float>& weights,
          const double expected_sample_rate = -1.0, const int groups = 1);
  ~ConvNet() override;

  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override;
  /// \brief The receptive field: 1 + the sum of the dilations.
  int GetPrewarmSamples() override { return _prewarm_samples; }

  /// \brief The blocks, input first (for inspection).
  const std::vector<ConvNetBlock>& get_blocks() const { return _blocks; }

protected:
  void SetMaxBufferSize(const int maxBufferSize) override;

private:
  void allocate(int block_capacity);
  void process_piece(NAM_SAMPLE** input, NAM_SAMPLE** output, int num_frames);

  int _channels;
  std::vector<ConvNetBlock> _blocks;
  std::vector<float> _head_weight; // (out_channels x channels), row-major
  std::vector<float> _head_bias;
  std::vector<float> _last_output; // the last block's output, channels rows of _block_capacity
  std::vector<float> _head_row;    // one output channel, before conversion to NAM_SAMPLE
  int _block_capacity = 0;
  int _prewarm_samples = 1;
};

/// \brief A parsed ConvNet config.
struct ConvNetConfig : public ModelConfig {
  int channels = 0;                         ///< `channels`: output channels of every block
  std::vector<int> dilations;               ///< `dilations`: one block per entry
  bool batchnorm = false;                   ///< `batchnorm`: batch norm instead of a convolution bias
  activations::ActivationConfig activation; ///< `activation` of every block
  int groups = 1;                           ///< `groups` of every block's convolution (default 1)
  int in_channels = 1;                      ///< `in_channels` (default 1)
  int out_channels = 1;                     ///< `out_channels` (default 1)
  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override;
};

/// \brief Reads a ConvNet `config` object. Throws std::runtime_error naming the key for missing, ill-typed,
/// out-of-range or inconsistent values.
ConvNetConfig parse_config_json(const nlohmann::json& config);
/// \brief The registered "ConvNet" parser.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

} // namespace convnet
} // namespace nam
