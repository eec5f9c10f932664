#pragma once
/// \file resource_limits.h
/// \brief The memory budget of one model, checked before a model is allocated.
///
/// A `.nam` file is untrusted input: a corrupt or hostile size could ask for gigabytes. Every architecture
/// (WaveNet, LSTM, ConvNet, Linear; containers through their submodels) estimates from its config what a
/// model of that shape would allocate and refuses it, with a clear error, when that exceeds the budget,
/// before its weights are counted. Each config key is also bounded on its own (4096 channels at most, for
/// example).

#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace nam {

namespace detail {
inline std::atomic<size_t>& max_model_bytes() {
  static std::atomic<size_t> limit{size_t(1) << 30};
  return limit;
}
} // namespace detail

/// \brief Largest estimated memory, in bytes, a model being loaded may need (default 1 GiB). Thread-safe.
inline size_t GetMaxModelBytes() {
  return detail::max_model_bytes().load(std::memory_order_relaxed);
}

/// \brief Changes the budget for models loaded from now on. Thread-safe.
inline void SetMaxModelBytes(const size_t bytes) {
  detail::max_model_bytes().store(bytes, std::memory_order_relaxed);
}

/// \brief Throws std::runtime_error when `bytes` exceeds the budget; `what` names the model part.
inline void check_model_bytes(const double bytes, const std::string& what) {
  const double limit = static_cast<double>(GetMaxModelBytes());
  if (bytes > limit) {
    constexpr double kMiB = 1024.0 * 1024.0;
    throw std::runtime_error(
        what + " would need about " + std::to_string(static_cast<long long>(bytes / kMiB)) +
        " MiB of memory, more than the limit of " + std::to_string(static_cast<long long>(limit / kMiB)) +
        " MiB (see nam::SetMaxModelBytes)");
  }
}

} // namespace nam
