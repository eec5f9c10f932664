#pragma once
/// \file aligned_vector.h
/// \brief A std::vector whose storage starts on a cache line.

#include <cstddef>
#include <new>
#include <vector>

namespace nam {

/// \brief Allocates on 64-byte boundaries: a cache line, and one AVX-512 vector, so that kernels loading
/// rows whose length is a multiple of 16 floats never split a load across two cache lines (which costs
/// AVX-512 code up to a third of its speed, depending on where the heap happened to place the buffer).
template <class T>
struct CacheLineAllocator {
  using value_type = T; ///< what it allocates
  /// Alignment of every allocation, in bytes.
  static constexpr std::align_val_t kAlignment{64};

  CacheLineAllocator() = default;
  /// \brief Stateless: a copy for another element type, as allocators must provide.
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}

  /// \brief Storage for `n` values, 64-byte aligned. Throws std::bad_alloc.
  T* allocate(const std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  /// \brief Frees what allocate() returned.
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlignment); }

  /// \brief Always equal: any instance frees what another allocated.
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
};

/// \brief std::vector with cache-line-aligned storage (see CacheLineAllocator).
template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

} // namespace nam
