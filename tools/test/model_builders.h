#pragma once
// Helpers shared by the foundation tests: small models written as JSON in memory, scratch files, a naive
// FIR filter to check Linear against, and a way to capture the message of an expected load error.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "NAM/activations.h"
#include "NAM/dsp.h"

namespace nam_test {

/// A complete `.nam` object of a Linear model with impulse response `taps` (taps[0] multiplies the
/// current sample) and an optional bias.
inline nlohmann::json linear_model(const std::vector<float>& taps,
                                   const std::optional<float> bias = std::nullopt, const int in_channels = 1,
                                   const int out_channels = 1) {
  nlohmann::json weights = nlohmann::json::array();
  for (const float w : taps)
    weights.push_back(w);
  if (bias)
    weights.push_back(*bias);
  nlohmann::json config = {{"receptive_field", taps.size()}, {"bias", bias.has_value()}};
  if (in_channels != 1)
    config["in_channels"] = in_channels;
  if (out_channels != 1)
    config["out_channels"] = out_channels;
  return {{"version", "0.5.4"},
          {"architecture", "Linear"},
          {"config", config},
          {"weights", weights},
          {"sample_rate", 48000}};
}

/// A directory of scratch files, removed with everything in it when the object goes away.
class TempDir {
public:
  TempDir() {
    static std::atomic<int> counter{0};
    _path = std::filesystem::temp_directory_path() /
            ("nam_tests_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(_path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return _path; }

  /// Writes `contents` verbatim to a file of this directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& contents) const {
    const std::filesystem::path file = _path / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }
  std::filesystem::path write(const std::string& name, const nlohmann::json& model) const {
    return write(name, model.dump());
  }

private:
  std::filesystem::path _path;
};

/// Runs `action`, which must throw std::runtime_error (or a class derived from it), and returns the message.
/// Records a test failure for any other outcome.
template <class Action>
std::string runtime_error_message(Action&& action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a std::runtime_error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected a std::runtime_error, but nothing was thrown";
  return {};
}

/// Whether `text` contains `part`; on failure the message shows both.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

/// `y[t] = bias + sum_j taps[j] * x[t - j]`, in double precision, with silence before the signal.
inline std::vector<double> naive_fir(const std::vector<double>& x, const std::vector<float>& taps,
                                     const double bias = 0.0) {
  std::vector<double> y(x.size(), bias);
  for (size_t t = 0; t < x.size(); ++t)
    for (size_t j = 0; j < taps.size() && j <= t; ++j)
      y[t] += static_cast<double>(taps[j]) * x[t - j];
  return y;
}

/// Planar multichannel audio with the pointer arrays `process()` takes.
class ChannelBuffers {
public:
  ChannelBuffers(const int channels, const int frames) :
      _data(static_cast<size_t>(channels), std::vector<NAM_SAMPLE>(static_cast<size_t>(frames), 0)) {
    for (auto& channel : _data)
      _pointers.push_back(channel.data());
    _shifted.reserve(_data.size()); // pointers_at() must not allocate inside an AllocationScope
  }
  NAM_SAMPLE** pointers() { return _pointers.data(); }
  /// Pointers to frame `offset` of every channel.
  NAM_SAMPLE** pointers_at(const int offset) {
    _shifted.clear();
    for (auto& channel : _data)
      _shifted.push_back(channel.data() + offset);
    return _shifted.data();
  }
  std::vector<NAM_SAMPLE>& operator[](const size_t c) { return _data[c]; }

private:
  std::vector<std::vector<NAM_SAMPLE>> _data;
  std::vector<NAM_SAMPLE*> _pointers;
  std::vector<NAM_SAMPLE*> _shifted;
};

/// Sets the process-wide fast-tanh switch for as long as it lives, then switches fast tanh off again.
class FastTanhScope {
public:
  explicit FastTanhScope(const bool on) {
    if (on)
      nam::activations::Activation::enable_fast_tanh();
    else
      nam::activations::Activation::disable_fast_tanh();
  }
  ~FastTanhScope() { nam::activations::Activation::disable_fast_tanh(); }
  FastTanhScope(const FastTanhScope&) = delete;
  FastTanhScope& operator=(const FastTanhScope&) = delete;
};

} // namespace nam_test
