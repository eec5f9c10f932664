#pragma once
/// \file model_handoff.h
/// \brief Lock-free hand-over of models built on a control thread to the audio thread.

#include <array>
#include <atomic>
#include <memory>

namespace nam {

/// \brief Passes a model from a control thread (which builds and prepares it) to the audio thread (which
/// swaps it in between two blocks), so that the audio thread never blocks, allocates or frees memory.
///
/// The control thread `publish()`es a model; the audio thread `take()`s it into its active slot and parks the
/// model it replaces in a retirement slot, from which the control thread frees it later (`collect()`, also
/// called by `publish()`). One control thread and one audio thread may use a handoff at the same time.
template <class Model>
class ModelHandoff {
public:
  ModelHandoff() = default;
  ModelHandoff(const ModelHandoff&) = delete;
  ModelHandoff& operator=(const ModelHandoff&) = delete;
  ~ModelHandoff() {
    discard();
    collect();
  }

  /// \brief Control thread: offers `model` to the audio thread, replacing (and freeing) a model published
  /// earlier that the audio thread has not taken yet.
  void publish(std::unique_ptr<Model> model) {
    collect();
    delete _staged.exchange(model.release(), std::memory_order_acq_rel);
  }

  /// \brief Control thread: withdraws a published model the audio thread has not taken yet.
  void discard() { delete _staged.exchange(nullptr, std::memory_order_acq_rel); }

  /// \brief Control thread: frees the models the audio thread has replaced.
  void collect() {
    for (auto& slot : _retired)
      delete slot.exchange(nullptr, std::memory_order_acq_rel);
  }

  /// \brief Audio thread: if a model was published, makes it `active` and retires the previous one.
  /// Returns whether it switched. Never blocks or allocates; if every retirement slot is still occupied
  /// (the control thread has not collected for a while) the switch waits for a later call.
  bool take(std::unique_ptr<Model>& active) {
    if (_staged.load(std::memory_order_acquire) == nullptr)
      return false;
    // Only this thread fills retirement slots, so a slot seen empty stays empty until it is filled here.
    std::atomic<Model*>* free_slot = nullptr;
    for (auto& slot : _retired)
      if (slot.load(std::memory_order_acquire) == nullptr) {
        free_slot = &slot;
        break;
      }
    if (free_slot == nullptr)
      return false;
    Model* next = _staged.exchange(nullptr, std::memory_order_acq_rel);
    if (next == nullptr)
      return false;
    free_slot->store(active.release(), std::memory_order_release);
    active.reset(next);
    return true;
  }

private:
  static constexpr size_t kRetirementSlots = 8;
  std::atomic<Model*> _staged{nullptr};
  std::array<std::atomic<Model*>, kRetirementSlots> _retired{};
};

} // namespace nam
