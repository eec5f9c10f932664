#pragma once
/// \file model.h
/// \brief `nam::wavenet::WaveNet`: stacked dilated-convolution layer arrays, with every option of the
/// `.nam` format (gating, bottlenecks, groups, 1x1s, FiLM, heads, a conditioning model).

#include <memory>
#include <optional>
#include <vector>

#include "../dsp.h"
#include "detail.h"
#include "params.h"

namespace nam {
namespace wavenet {

/// \brief A WaveNet model. Its state is the history of each dilated convolution (and the condition model).
class WaveNet : public DSP {
public:
  /// \param in_channels input channels of `process()`.
  /// \param layer_array_params the layer arrays, input first (at least one).
  /// \param head_scale ignored: the last weight is the head scale (as in the original).
  /// \param with_head whether there is a post-stack head; must agree with `head_params`.
  /// \param head_params the post-stack head, or nullopt.
  /// \param weights every weight, in file order (count_weights() values, the head scale last).
  /// \param condition_dsp model whose output is the layers' condition, or nullptr to use the input.
  /// \param expected_sample_rate the rate the model was trained at, or -1 when unknown.
  /// Throws std::runtime_error for inconsistent shapes and when `weights` has the wrong length.
  WaveNet(const int in_channels, const std::vector<LayerArrayParams>& layer_array_params,
          const float head_scale, const bool with_head, std::optional<HeadParams> head_params,
          std::vector<float> weights, std::unique_ptr<DSP> condition_dsp,
          const double expected_sample_rate = -1.0);
  ~WaveNet() override;

  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override;
  /// \brief After the first prewarm the converged histories are cached, so later prewarms restore them
  /// without processing audio (not for models with a condition model, whose state is not cached).
  void prewarm() override;
  void SetPrewarmOnReset(const bool prewarmOnReset) override;
  /// \brief Replaces all weights (the shape stays). Throws std::runtime_error on a wrong count.
  void set_weights_(std::vector<float>& weights);
  /// \brief Reads the weights from `weights` onwards (no count check), advancing it.
  void set_weights_(std::vector<float>::iterator& weights);
  /// \brief (condition model's prewarm samples, or 1) + the receptive fields of the arrays and the head.
  int GetPrewarmSamples() override { return _prewarm_samples; }

  /// \brief Weight count a model of this shape needs, computed from the shape alone.
  static long long count_weights(const std::vector<LayerArrayParams>& layer_array_params,
                                 const std::optional<HeadParams>& head_params);

protected:
  void SetMaxBufferSize(const int maxBufferSize) override;

private:
  void allocate(int block_capacity);
  void process_block(NAM_SAMPLE** input, NAM_SAMPLE** output, int num_frames);
  template <class F>
  void for_each_conv(F&& f);

  std::vector<detail::LayerArray> _layer_arrays;
  std::optional<detail::Head> _head;
  std::unique_ptr<DSP> _condition_dsp;
  float _head_scale = 1.0f;
  long long _num_weights = 0;
  int _prewarm_samples = 0;
  int _block_capacity = 0;
  bool _prewarm_cached = false;
  Eigen::MatrixXf _input;       // in_channels x frames
  Eigen::MatrixXf _condition;   // condition model output (only with a condition model)
  Eigen::MatrixXf _scaled_head; // head_scale * last array's head output (only with a post-stack head)
  std::vector<std::vector<NAM_SAMPLE>> _condition_samples; // condition model output in host format
  std::vector<NAM_SAMPLE*> _condition_pointers;
};

/// \brief A parsed WaveNet config (move-only: it owns the condition model).
struct WaveNetConfig : public ModelConfig {
  int in_channels = 1;                              ///< `in_channels` (default 1)
  std::vector<LayerArrayParams> layer_array_params; ///< `layers`, one entry per layer array
  float head_scale = 1.0f;                          ///< `head_scale` (the model uses the last weight instead)
  bool with_head = false;                           ///< true when the config has a post-stack `head`
  std::optional<HeadParams> head_params;            ///< the post-stack `head`, if any
  std::unique_ptr<DSP> condition_dsp;               ///< the loaded `condition_dsp` model, if any

  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override;
};

/// \brief Reads a WaveNet `config` object; errors name the offending key (std::runtime_error).
WaveNetConfig parse_config_json(const nlohmann::json& config, const double expectedSampleRate);

/// \brief The registered "WaveNet" parser: slimmable configs become a SlimmableWavenet, the A2 shape the
/// A2 model, everything else a WaveNet.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

} // namespace wavenet
} // namespace nam
