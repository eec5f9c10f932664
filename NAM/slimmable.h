#pragma once
/// \file slimmable.h
/// \brief Models whose size (and cost) can be changed while they run.

#include <vector>

namespace nam {

/// \brief Implemented by models that can switch to a smaller variant of themselves. Hosts find it with
/// `dynamic_cast<nam::SlimmableModel*>(dsp)`.
///
/// Thread safety: `SetSlimmableSize` may be called from a non-audio thread while `process()` runs on the
/// audio thread. It is not real-time safe (it may allocate and prewarm the new variant).
class SlimmableModel {
public:
  virtual ~SlimmableModel() = default;
  /// \brief Selects a size: 0 is the smallest variant, 1 the full model. Values between select the
  /// variant whose range contains them (see GetSlimmableSizeBreakpoints()).
  virtual void SetSlimmableSize(const double val) = 0;
  /// \brief Sorted sizes in (0, 1) at which the selected variant changes (0 and 1 are implied).
  virtual std::vector<double> GetSlimmableSizeBreakpoints() const { return {}; }
};

} // namespace nam
