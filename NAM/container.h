#pragma once
/// \file container.h
/// \brief The "SlimmableContainer" architecture: several complete models of increasing size, one of which
/// runs at a time, chosen with `SlimmableModel::SetSlimmableSize`.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "dsp.h"
#include "model_config.h"
#include "slimmable.h"

namespace nam {
namespace container {

/// \brief A model and the slimmable size below which it is selected.
struct Submodel {
  double max_value;           ///< selected for sizes below this and at or above the previous max_value
  std::unique_ptr<DSP> model; ///< mono in, mono out
};

/// \brief Runs one of its submodels (mono in, mono out). `SetSlimmableSize(v)` selects the first submodel
/// whose `max_value` is greater than `v`, or the last one; the last (largest) is selected at load.
///
/// Thread safety: `SetSlimmableSize` may be called from any non-audio thread while `process()` runs. It
/// resets (and so prewarms) the newly selected submodel on the calling thread, waiting first until the audio
/// thread is not inside that submodel, and only then publishes it; `process()` picks the published submodel
/// without locking, waiting or allocating. Submodels live as long as the container. `Reset()` and
/// `prewarm()` follow the usual rule (not while `process()` runs) and are serialised with
/// `SetSlimmableSize`.
class ContainerModel : public DSP, public SlimmableModel {
public:
  /// \brief Throws std::runtime_error if `submodels` is empty, its `max_value`s are not strictly increasing,
  /// the last is below 1, a submodel's known sample rate differs from a known `expected_sample_rate`, or a
  /// submodel is not mono in and mono out.
  ContainerModel(std::vector<Submodel> submodels, const double expected_sample_rate);
  ~ContainerModel() override;

  /// \brief Runs the selected submodel. Real-time safe if the submodel is.
  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) override;
  /// \brief Prewarms the selected submodel.
  void prewarm() override;
  /// \brief Remembers the rate and buffer size (used when another submodel is selected later) and resets the
  /// selected submodel with them. The other submodels are reset when they are selected.
  void Reset(const double sampleRate, const int maxBufferSize) override;
  /// \brief Sets the flag on the container and every submodel.
  void SetPrewarmOnReset(const bool prewarmOnReset) override;
  /// \brief The selected submodel's prewarm length.
  int GetPrewarmSamples() override;

  void SetSlimmableSize(const double val) override;
  /// \brief The `max_value` of every submodel but the last, in order.
  std::vector<double> GetSlimmableSizeBreakpoints() const override;

  /// \brief Index of the submodel `process()` currently runs.
  size_t GetActiveIndex() const { return _active_index.load(std::memory_order_acquire); }
  /// \brief Number of submodels.
  size_t GetNumSubmodels() const { return _submodels.size(); }
  /// \brief Submodel `index` (for inspection; do not process or reset it directly).
  const DSP& GetSubmodel(const size_t index) const { return *_submodels.at(index).model; }

private:
  size_t index_for_size(const double val) const;
  /// \brief Waits (off the audio thread) until process() is not running submodel `index`.
  void wait_until_unused(const size_t index) const;

  std::vector<Submodel> _submodels;
  std::atomic<size_t> _active_index{0};
  // The submodel process() is running, or kNone; lets SetSlimmableSize avoid resetting a model in use.
  std::atomic<size_t> _in_use;
  std::mutex _selection_mutex; // serialises SetSlimmableSize and Reset (never taken by process())
};

/// \brief A parsed SlimmableContainer config (the submodels are loaded by `create`).
struct ContainerConfig : public ModelConfig {
  nlohmann::json raw_config; ///< the `config` object, parsed by create()
  double sample_rate = -1.0; ///< the file's sample rate, or -1 when unknown
  /// \brief Loads every submodel (`config.submodels[i].model`, each a complete model object), then builds the
  /// container. The container has no weights of its own; `weights` is ignored.
  std::unique_ptr<DSP> create(std::vector<float> weights, double sampleRate) override;
};

/// \brief The registered "SlimmableContainer" parser.
std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate);

} // namespace container
} // namespace nam
