#pragma once
/// \file isa.h
/// \brief The instruction sets the templated kernels are compiled for, which of them this CPU runs (detected
/// once), and the cap that tests and users put on the choice (`NAM_ISA=baseline|avx2|avx512`).
///
/// Every kernel exists once per instruction set, compiled with a function-level target so that no build
/// flag is needed; the registry runs the best one that is both supported here and at or below the cap.

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string_view>

// AVX2 and AVX-512 variants need GCC/Clang function-level targets on x86. Elsewhere (MSVC, ARM) only the
// portable baseline kernels exist.
/// \def NAM_KERNELS_X86
/// \brief 1 when the AVX2 and AVX-512 kernels are compiled (GCC or Clang on x86), else 0.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#  define NAM_KERNELS_X86 1
#else
#  define NAM_KERNELS_X86 0
#endif

/// \def NAM_KERNELS_FUSE_MULTIPLY_ADD
/// \brief 1 when the build itself targets fused multiply-add (as `-march=native` on a recent CPU does), so
/// that the compiler fuses everywhere, the generic path included; else 0.
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA) || (defined(_MSC_VER) && defined(__AVX2__))
#  define NAM_KERNELS_FUSE_MULTIPLY_ADD 1
#else
#  define NAM_KERNELS_FUSE_MULTIPLY_ADD 0
#endif

namespace nam {
namespace kernels {

/// \brief Instruction sets, weakest first (the order is used for comparisons).
enum class Isa : int {
  baseline = 0, ///< whatever the build targets (SSE2 in a portable x86-64 build)
  avx2 = 1,     ///< AVX2 + FMA
  avx512 = 2,   ///< AVX-512 F/VL/DQ/BW
};

/// \brief Every Isa, weakest first.
inline constexpr Isa kAllIsas[] = {Isa::baseline, Isa::avx2, Isa::avx512};

/// \brief "baseline", "avx2" or "avx512": the spelling used in kernel names and in `NAM_ISA`.
constexpr const char* isa_name(const Isa isa) {
  switch (isa) {
  case Isa::avx2:
    return "avx2";
  case Isa::avx512:
    return "avx512";
  default:
    return "baseline";
  }
}

/// \brief The Isa spelled `text` (as isa_name writes it), or nullopt.
inline std::optional<Isa> parse_isa(const std::string_view text) {
  for (const Isa isa : kAllIsas)
    if (text == isa_name(isa))
      return isa;
  return std::nullopt;
}

/// \brief True when the convolution kernels for `isa` fuse each multiply and add into one rounding: always
/// at avx2 and avx512, whose FMA units do both for the price of one; at baseline only when the build targets
/// FMA. Fused sums differ from the generic path's unfused ones by rounding, which a deep model can amplify
/// to about 1e-5 of its peak output (tools/test/test_kernels.cpp holds them to 3e-5; unfused, to 1e-6).
constexpr bool fuses_multiply_add(const Isa isa) {
  return isa != Isa::baseline || NAM_KERNELS_FUSE_MULTIPLY_ADD;
}

/// \brief True when this build contains kernels for `isa` (AVX2/AVX-512 only on x86 with GCC or Clang).
constexpr bool isa_compiled(const Isa isa) {
  return isa == Isa::baseline || NAM_KERNELS_X86;
}

#if NAM_KERNELS_X86
namespace detail {
/// The four registers CPUID returns for `leaf` and `subleaf`.
struct CpuidRegisters {
  unsigned eax, ebx, ecx, edx;
};
inline CpuidRegisters cpuid(const unsigned leaf, const unsigned subleaf) {
  CpuidRegisters r;
  __asm__ __volatile__("cpuid"
                       : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                       : "a"(leaf), "c"(subleaf));
  return r;
}
/// Which register states the operating system saves across context switches (XCR0), read with XGETBV:
/// only call it where CPUID reports OSXSAVE.
inline unsigned long long enabled_register_state() {
  unsigned eax, edx;
  __asm__ __volatile__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0u));
  return static_cast<unsigned long long>(edx) << 32 | eax;
}
/// The best Isa this CPU and operating system run, from CPUID and XCR0. Read directly rather than through
/// `__builtin_cpu_supports`, whose data lives in the compiler's runtime library: Clang targeting the MSVC ABI
/// (clang-cl, Visual Studio's LLVM toolset) does not link that library, and a plugin built so would fail to
/// link.
inline Isa read_cpu_isa() {
  constexpr unsigned kFma = 1u << 12, kOsxsave = 1u << 27, kAvx = 1u << 28;      // CPUID 1, ECX
  constexpr unsigned kAvx2 = 1u << 5, kAvx512F = 1u << 16, kAvx512Dq = 1u << 17; // CPUID 7, EBX
  constexpr unsigned kAvx512Bw = 1u << 30, kAvx512Vl = 1u << 31;
  constexpr unsigned long long kAvxState = 0x6;     // XCR0: SSE and AVX registers
  constexpr unsigned long long kAvx512State = 0xe0; // XCR0: mask registers, upper ZMM halves, ZMM16-31
  if (cpuid(0, 0).eax < 7)
    return Isa::baseline;
  const unsigned features = cpuid(1, 0).ecx;
  if ((features & (kFma | kOsxsave | kAvx)) != (kFma | kOsxsave | kAvx))
    return Isa::baseline;
  const unsigned long long state = enabled_register_state();
  if ((state & kAvxState) != kAvxState)
    return Isa::baseline;
  const unsigned extended = cpuid(7, 0).ebx;
  constexpr unsigned kAvx512 = kAvx512F | kAvx512Dq | kAvx512Bw | kAvx512Vl;
#  if defined(__APPLE__)
  // macOS enables the AVX-512 state on a thread's first AVX-512 instruction, so XCR0 lacks it until then.
  const bool avx512_state = true;
#  else
  const bool avx512_state = (state & kAvx512State) == kAvx512State;
#  endif
  if ((extended & kAvx512) == kAvx512 && avx512_state)
    return Isa::avx512;
  return (extended & kAvx2) ? Isa::avx2 : Isa::baseline;
}
} // namespace detail
#endif

/// \brief The best instruction set this CPU and operating system run, among those compiled in. Detected on
/// the first call; later calls return the stored answer.
inline Isa detected_isa() {
#if NAM_KERNELS_X86
  static const Isa detected = detail::read_cpu_isa();
  return detected;
#else
  return Isa::baseline;
#endif
}

/// \brief True when kernels for `isa` can run here (whatever the cap).
inline bool isa_available(const Isa isa) {
  return isa_compiled(isa) && static_cast<int>(isa) <= static_cast<int>(detected_isa());
}

namespace detail {
/// The cap, first read from the environment variable NAM_ISA (unknown values mean no cap).
inline std::atomic<int>& isa_cap_storage() {
  static std::atomic<int> cap{[] {
    const char* text = std::getenv("NAM_ISA");
    const std::optional<Isa> parsed = text ? parse_isa(text) : std::nullopt;
    return static_cast<int>(parsed.value_or(Isa::avx512));
  }()};
  return cap;
}
} // namespace detail

/// \brief The strongest instruction set kernels may use: `NAM_ISA` from the environment unless
/// `set_isa_cap` was called; no cap (avx512) by default.
inline Isa isa_cap() {
  return static_cast<Isa>(detail::isa_cap_storage().load(std::memory_order_relaxed));
}

/// \brief Caps the instruction set for kernels picked from now on (layers keep the kernel they picked when
/// they were sized). Meant for tests and benchmarks comparing instruction sets.
inline void set_isa_cap(const Isa cap) {
  detail::isa_cap_storage().store(static_cast<int>(cap), std::memory_order_relaxed);
}

/// \brief The instruction set new picks start from: the weaker of the cap and the CPU's best.
inline Isa selected_isa() {
  const int cap = static_cast<int>(isa_cap());
  const int detected = static_cast<int>(detected_isa());
  return static_cast<Isa>(cap < detected ? cap : detected);
}

} // namespace kernels
} // namespace nam
