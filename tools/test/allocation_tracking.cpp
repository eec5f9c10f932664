#include <cstdlib>
#include <new>

#include "allocation_tracking.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define NAM_TEST_NO_ALLOCATION_HOOKS 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#    define NAM_TEST_NO_ALLOCATION_HOOKS 1
#  endif
#endif

namespace {
// Per-thread counters; `depth` > 0 while an AllocationScope is open on the thread.
thread_local long tAllocations = 0;
thread_local long tDeallocations = 0;
thread_local int tDepth = 0;

inline void note_allocation(const void* p) {
  if (tDepth > 0 && p != nullptr)
    ++tAllocations;
}
inline void note_deallocation(const void* p) {
  if (tDepth > 0 && p != nullptr)
    ++tDeallocations;
}
} // namespace

namespace nam_test {
AllocationScope::AllocationScope() :
    _allocations_at_start(tAllocations),
    _deallocations_at_start(tDeallocations) {
  ++tDepth;
}
AllocationScope::~AllocationScope() {
  --tDepth;
}
long AllocationScope::allocations() const {
  return tAllocations - _allocations_at_start;
}
long AllocationScope::deallocations() const {
  return tDeallocations - _deallocations_at_start;
}
#ifdef NAM_TEST_NO_ALLOCATION_HOOKS
bool AllocationScope::available() {
  return false;
}
#else
bool AllocationScope::available() {
  return true;
}
#endif
} // namespace nam_test

#ifndef NAM_TEST_NO_ALLOCATION_HOOKS

// glibc's own entry points, which the replacements below forward to.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t size) {
  void* p = __libc_malloc(size);
  note_allocation(p);
  return p;
}
void* calloc(size_t count, size_t size) {
  void* p = __libc_calloc(count, size);
  note_allocation(p);
  return p;
}
void* realloc(void* old, size_t size) {
  void* p = __libc_realloc(old, size);
  if (p != old) {
    note_allocation(p);
    note_deallocation(old);
  }
  return p;
}
void free(void* p) {
  note_deallocation(p);
  __libc_free(p);
}
void* memalign(size_t alignment, size_t size) {
  void* p = __libc_memalign(alignment, size);
  note_allocation(p);
  return p;
}
void* aligned_alloc(size_t alignment, size_t size) {
  return memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  void* p = memalign(alignment, size);
  if (p == nullptr)
    return 12; // ENOMEM
  *out = p;
  return 0;
}
}

namespace {
void* new_or_throw(std::size_t size) {
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc();
}
void* aligned_new_or_throw(std::size_t size, std::align_val_t alignment) {
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<size_t>(alignment), size == 0 ? 1 : size) != 0)
    throw std::bad_alloc();
  return p;
}
} // namespace

void* operator new(std::size_t size) {
  return new_or_throw(size);
}
void* operator new[](std::size_t size) {
  return new_or_throw(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t a) {
  return aligned_new_or_throw(size, a);
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return aligned_new_or_throw(size, a);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

#endif
