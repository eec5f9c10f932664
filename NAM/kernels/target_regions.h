#pragma once
/// \file target_regions.h
/// \brief Opening and closing a stretch of source compiled for AVX2 or AVX-512 without build flags: every
/// function defined between NAM_TARGET_REGION_AVX2 (or _AVX512) and NAM_TARGET_REGION_END gets that target,
/// so one portable translation unit holds a copy of its hot loops per instruction set, and a caller picks one
/// at run time (kernels/isa.h). Only x86 with GCC or Clang has regions (NAM_KERNELS_X86); elsewhere the
/// macros are not defined and only the portable code exists.
///
/// Open a region only after every #include of the file: a header seen first inside a region would leave
/// AVX2 copies of its inline functions, which the linker may hand to any caller.

#include "isa.h"

// Inside a region, multiply-adds are fused exactly when the portable build fuses them
// (NAM_KERNELS_FUSE_MULTIPLY_ADD, isa.h), so that elementwise code (activations, gates) rounds alike at
// every instruction set. The convolution kernels open NAM_FUSE_MULTIPLY_ADD_BEGIN inside their AVX2 and
// AVX-512 regions: there one FMA does the work of a multiply and an add (see fuses_multiply_add).
#if NAM_KERNELS_X86
#  if defined(__clang__)
// Clang keeps contraction off per file (see the pragma below); the regions only set the target.
#    define NAM_TARGET_REGION_AVX2                                                                           \
      _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#    define NAM_TARGET_REGION_AVX512                                                                         \
      _Pragma(                                                                                               \
          "clang attribute push(__attribute__((target(\"avx512f,avx512vl,avx512dq,avx512bw,avx2,fma\"))), \
apply_to = function)")
#    define NAM_TARGET_REGION_END _Pragma("clang attribute pop")
#    define NAM_FUSE_MULTIPLY_ADD_BEGIN _Pragma("clang fp contract(fast)")
#    if NAM_KERNELS_FUSE_MULTIPLY_ADD
#      define NAM_FUSE_MULTIPLY_ADD_END _Pragma("clang fp contract(on)")
#    else
#      pragma clang fp contract(off)
#      define NAM_FUSE_MULTIPLY_ADD_END _Pragma("clang fp contract(off)")
#    endif
#  else
#    if NAM_KERNELS_FUSE_MULTIPLY_ADD
#      define NAM_TARGET_REGION_NO_CONTRACT
#    else
#      define NAM_TARGET_REGION_NO_CONTRACT _Pragma("GCC optimize(\"fp-contract=off\")")
#    endif
#    define NAM_TARGET_REGION_AVX2                                                                           \
      _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")") NAM_TARGET_REGION_NO_CONTRACT
#    define NAM_TARGET_REGION_AVX512                                                                         \
      _Pragma("GCC push_options")                                                                            \
          _Pragma("GCC target(\"avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,prefer-vector-width=512\")")     \
              NAM_TARGET_REGION_NO_CONTRACT
#    define NAM_TARGET_REGION_END _Pragma("GCC pop_options")
// NAM_TARGET_REGION_END restores the contraction setting with the rest of the region's options.
#    define NAM_FUSE_MULTIPLY_ADD_BEGIN _Pragma("GCC optimize(\"fp-contract=fast\")")
#    define NAM_FUSE_MULTIPLY_ADD_END
#  endif
// Vectors wider than the baseline target pass between force-inlined helpers inside regions and never cross
// a call, so GCC's note that such arguments change the ABI does not apply. It is issued where templates are
// emitted, at the end of the translation unit, so it stays off from here on.
#  if defined(__GNUC__)
#    pragma GCC diagnostic ignored "-Wpsabi"
#  endif
#endif

// MSVC has no regions; its portable build with /arch:AVX2 fuses in Eigen, so the kernels fuse alike.
#if defined(_MSC_VER) && !defined(__clang__) && NAM_KERNELS_FUSE_MULTIPLY_ADD
#  pragma fp_contract(on)
#endif

/// \def NAM_CALL_FOR_SELECTED_ISA
/// \brief Calls `function(args...)` from the namespace (baseline, avx2, avx512) of the instruction set the
/// kernels run at now (kernels::selected_isa()), for code compiled once per region; returns its result.
#if NAM_KERNELS_X86
#  define NAM_CALL_FOR_SELECTED_ISA(function, ...)                                                           \
    switch (::nam::kernels::selected_isa()) {                                                                \
    case ::nam::kernels::Isa::avx512:                                                                        \
      return avx512::function(__VA_ARGS__);                                                                  \
    case ::nam::kernels::Isa::avx2:                                                                          \
      return avx2::function(__VA_ARGS__);                                                                    \
    default:                                                                                                 \
      return baseline::function(__VA_ARGS__);                                                                \
    }
#else
#  define NAM_CALL_FOR_SELECTED_ISA(function, ...) return baseline::function(__VA_ARGS__);
#endif
