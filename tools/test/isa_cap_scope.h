#pragma once
// A test-scoped cap on the instruction set that kernels and activation loops run at.

#include "NAM/kernels/isa.h"

namespace nam_test {

/// Caps the instruction set while alive (nam::kernels::set_isa_cap), then restores the previous cap.
class IsaCapScope {
public:
  explicit IsaCapScope(const nam::kernels::Isa cap) : _previous(nam::kernels::isa_cap()) {
    nam::kernels::set_isa_cap(cap);
  }
  ~IsaCapScope() { nam::kernels::set_isa_cap(_previous); }
  IsaCapScope(const IsaCapScope&) = delete;
  IsaCapScope& operator=(const IsaCapScope&) = delete;

private:
  nam::kernels::Isa _previous;
};

} // namespace nam_test
