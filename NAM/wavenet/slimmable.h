#pragma once
/// \file slimmable.h
/// \brief SlimmableWavenet: a WaveNet whose layer arrays can run with fewer channels.

#include <memory>
#include <vector>

#include "../dsp.h"
#include "../json.h"
#include "../model_config.h"
#include "../model_handoff.h"
#include "../slimmable.h"
#include "params.h"

namespace nam {
namespace slimmable_wavenet {

/// \brief True when some layer array has a `slimmable` object with a method; throws std::runtime_error for
/// a method other than "slice_channels_uniform".
bool is_slimmable_config(const nlohmann::json& config);

/// \brief Parses a slimmable WaveNet config.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

/// \brief A WaveNet whose slimmable layer arrays (`"slimmable": {"method": "slice_channels_uniform"}`) can be
/// narrowed to any of their `allowed_channels`. A narrowed model is an ordinary WaveNet whose weights are
/// the leading sub-blocks of the full weights.
///
/// Thread safety: `SetSlimmableSize` may run on a control thread while `process` runs on the audio thread;
/// the new model is built and prewarmed on the control thread and swapped in at the start of a block.
class SlimmableWavenet : public DSP, public SlimmableModel {
public:
  /// \param original_params the full-width layer arrays.
  /// \param per_array_allowed_channels ascending widths per array (empty: the array is not slimmable); each
  /// non-empty list ends with the array's full channel count, and at least one list is non-empty.
  /// \param in_channels input channels of `process()`.
  /// \param head_scale passed on to each WaveNet (which uses the last weight instead).
  /// \param with_head must be false: a post-stack head is not supported.
  /// \param condition_dsp_json the nested condition model (null if none), rebuilt for each width.
  /// \param full_weights the full-width model's weights; narrower models use their leading sub-blocks.
  /// \param expected_sample_rate the file's sample rate, or -1 when unknown.
  /// Throws std::runtime_error when these requirements are not met or the full model cannot be built.
  SlimmableWavenet(std::vector<wavenet::LayerArrayParams> original_params,
                   std::vector<std::vector<int>> per_array_allowed_channels, int in_channels,
                   float head_scale, bool with_head, nlohmann::json condition_dsp_json,
                   std::vector<float> full_weights, double expected_sample_rate);
  ~SlimmableWavenet() override;

  /// \brief Array a gets allowed_a[min(floor(val * n_a), n_a - 1)] channels (val is clamped to [0, 1]).
  /// Throws std::runtime_error when the model cannot be narrowed (grouped convolutions, head kernel > 1).
  void SetSlimmableSize(double val) override;
  std::vector<double> GetSlimmableSizeBreakpoints() const override;

  // Forwarded to the model of the selected widths.
  void Reset(double sampleRate, int maxBufferSize) override;
  void SetPrewarmOnReset(bool prewarmOnReset) override;
  void prewarm() override;
  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, int num_frames) override;

private:
  // Everything needed to rebuild the model at any widths; fixed after construction.
  struct FullModel {
    std::vector<wavenet::LayerArrayParams> arrays;
    std::vector<std::vector<int>> allowed_widths; // per array, ascending; empty when the array is fixed
    int in_channels;
    float head_scale;
    nlohmann::json condition_dsp; // null when there is none
    std::vector<float> weights;
    double file_sample_rate;
  };

  // The last Reset, replayed on every model built afterwards.
  struct HostSettings {
    bool reset = false;
    double sample_rate = 0.0;
    int max_buffer_size = 0;
  };

  std::unique_ptr<DSP> build(const std::vector<int>& widths) const;
  std::vector<int> widths_for(double val) const;
  void take_pending_model();

  const FullModel _full;
  HostSettings _host;

  std::unique_ptr<DSP> _active_model; // used by the audio thread
  ModelHandoff<DSP> _handoff;
  std::vector<int> _selected_widths; // widths of the model that is or is about to become active
};

} // namespace slimmable_wavenet
} // namespace nam
