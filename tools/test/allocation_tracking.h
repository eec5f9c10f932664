#pragma once
// Counts heap allocations made by the calling thread, to prove that process() never allocates.
//
// The test binary replaces the global operator new/delete and the C allocation functions (malloc,
// calloc, realloc, posix_memalign, aligned_alloc, memalign), so Eigen's and the standard library's
// allocations are seen too. Only the thread that opened an AllocationScope is counted, so other threads
// (a UI thread in a concurrency test, GoogleTest itself) do not disturb the count. Under sanitizers the
// hooks are left out (they would replace the sanitizer's own allocator) and `available()` is false.

#include <cstddef>

namespace nam_test {

class AllocationScope {
public:
  AllocationScope();
  ~AllocationScope();
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;

  /// Allocations (including reallocations) made by this thread since the scope opened.
  long allocations() const;
  /// Frees made by this thread since the scope opened.
  long deallocations() const;

  /// False when this build cannot count allocations (sanitizer builds).
  static bool available();

private:
  long _allocations_at_start;
  long _deallocations_at_start;
};

} // namespace nam_test
