#pragma once
/// \file denormals.h
/// \brief Flush-to-zero for the duration of a block.
///
/// Denormal floats (below ~1e-38) are up to a hundred times slower to compute with on x86. Decaying
/// recurrent state and the tails of silent input produce them, so every model's `process()` runs with
/// flush-to-zero and denormals-are-zero set, and gives the caller back its own floating-point mode.

#include <cstdint>

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#  include <xmmintrin.h>
#  define NAM_DENORMALS_SSE 1
#endif

namespace nam {

/// \brief Sets flush-to-zero (and denormals-are-zero where the CPU has it) until destroyed, then restores
/// the previous mode. Costs two control-register accesses; real-time safe.
class ScopedFlushDenormals {
public:
  ScopedFlushDenormals() {
#if defined(NAM_DENORMALS_SSE)
    _saved = _mm_getcsr();
    _mm_setcsr(_saved | kFlushToZero | kDenormalsAreZero);
#elif defined(__aarch64__)
    asm volatile("mrs %0, fpcr" : "=r"(_saved));
    asm volatile("msr fpcr, %0" : : "r"(_saved | kArmFlushToZero));
#endif
  }
  ~ScopedFlushDenormals() {
#if defined(NAM_DENORMALS_SSE)
    _mm_setcsr(_saved);
#elif defined(__aarch64__)
    asm volatile("msr fpcr, %0" : : "r"(_saved));
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

private:
#if defined(NAM_DENORMALS_SSE)
  static constexpr unsigned kFlushToZero = 0x8000;      // MXCSR.FTZ
  static constexpr unsigned kDenormalsAreZero = 0x0040; // MXCSR.DAZ
  unsigned _saved = 0;
#elif defined(__aarch64__)
  static constexpr uint64_t kArmFlushToZero = uint64_t(1) << 24; // FPCR.FZ
  uint64_t _saved = 0;
#endif
};

} // namespace nam
