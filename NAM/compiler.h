#pragma once
/// \file compiler.h
/// \brief Portable spellings of compiler hints used in the hot loops.

/// \def NAM_RESTRICT
/// \brief C `restrict`: what the pointer designates is reached through no other pointer in its scope.
/// \def NAM_ALWAYS_INLINE
/// \brief Forces inlining of a small hot-loop helper.

#if defined(_MSC_VER) && !defined(__clang__)
#  define NAM_RESTRICT __restrict
#  define NAM_ALWAYS_INLINE __forceinline
#else
#  define NAM_RESTRICT __restrict__
#  define NAM_ALWAYS_INLINE inline __attribute__((always_inline))
#endif
