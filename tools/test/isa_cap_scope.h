#pragma once
// A test-scoped cap on the instruction set that kernels and activation loops run at, and a loop over the
// instruction sets this CPU has.

#include <gtest/gtest.h>

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

/// Runs body(isa) once per instruction set this CPU has, with the kernels and activation loops capped there
/// (a model picks its kernels when it is built, so build it inside body).
template <class Body>
void at_every_available_isa(const Body& body) {
  for (const nam::kernels::Isa isa : nam::kernels::kAllIsas) {
    if (!nam::kernels::isa_available(isa))
      continue;
    IsaCapScope cap(isa);
    SCOPED_TRACE(nam::kernels::isa_name(isa));
    body(isa);
  }
}

} // namespace nam_test
