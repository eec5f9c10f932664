#pragma once
/// \file convnet.h
/// \brief The "ConvNet" architecture: a stack of dilated kernel-2 convolution blocks and a linear head.

#include <memory>
#include <string>
#include <vector>

#include "activations.h"
#include "batchnorm.h"
#include "conv1d.h"
#include "dsp.h"

namespace nam {
namespace convnet {

/// \brief One block: a causal kernel-2 convolution (`z_t = W_0 v_{t-d} + W_1 v_t + b`, grouped), an optional
/// batch norm (then the convolution has no bias), then an activation.
///
/// The convolution is a nam::Conv1D, which keeps the input history and runs the templated kernel of its
/// shape. Data is column-major (channels x frames), one column per frame, as everywhere in Eigen.
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

  /// \brief Consumes the first `num_frames` columns of `input` (in_channels rows; at most the prepared block
  /// size) and computes their outputs into GetOutput(). Real-time safe.
  void Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames);
  /// \brief Result of the last Process call (out_channels rows), in its first `num_frames` columns.
  const Eigen::MatrixXf& GetOutput() const { return _conv.GetOutput(); }

  /// \brief The block's convolution (shape, dilation, kernel).
  const Conv1D& get_conv() const { return _conv; }
  /// \brief Output channel count.
  long get_out_channels() const { return _conv.get_out_channels(); }

private:
  Conv1D _conv;
  bool _batchnorm;
  BatchNorm _batchnorm_params;
  activations::Activation::Ptr _activation;
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

  std::vector<ConvNetBlock> _blocks;
  // The head as a kernel-size-1 Conv1D: same weight order as a Conv1x1, and the tap kernel table has the
  // channels -> 1 shapes of WaveNet heads.
  Conv1D _head;
  Eigen::MatrixXf _input; // the input converted to float, in_channels x _block_capacity
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
