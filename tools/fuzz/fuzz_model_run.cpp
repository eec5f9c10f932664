#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "fuzz_model_run.h"

namespace nam_fuzz {

namespace {

// True when every number that scales the signal is in [-1, 1]: the "weights" arrays, "head_scale" and the
// parameters of activations (objects with a "type", such as a slope), in the model and in nested models.
// Larger gains can overflow to infinity on the way through a deep model, and the activations then make NaN
// of it as the original's do (softsign(inf) is inf / inf): an edit to a LeakyHardtanh slope of 1e10 did.
bool signal_scales_are_moderate(const nlohmann::json& j, const bool scales_signal = false) {
  if (j.is_object()) {
    const bool is_activation = j.contains("type");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const bool scales = is_activation || it.key() == "weights" || it.key() == "head_scale";
      if (!signal_scales_are_moderate(*it, scales_signal || scales))
        return false;
    }
    return true;
  }
  if (j.is_array()) {
    for (const auto& element : j)
      if (!signal_scales_are_moderate(element, scales_signal))
        return false;
    return true;
  }
  if (!scales_signal || j.is_boolean() || j.is_string() || j.is_null())
    return true;
  return j.is_number() && std::abs(j.get<double>()) <= 1.0;
}

// Prewarm runs the model over its whole receptive field, which a hostile config can make a million frames
// long: seconds in a plugin, but a minute under the fuzzer's instrumentation, which would hide every other
// input; even the A1 presets' 4093 samples take most of an execution. Longer prewarms are skipped here
// (the same prewarm code runs on every shorter model, and process() runs on every model).
constexpr int kMaxFuzzedPrewarmSamples = 1024;

} // namespace

void load_and_run(const nlohmann::json& model_json, const uint64_t variation) {
  std::unique_ptr<nam::DSP> model;
  try {
    model = nam::get_dsp(model_json);
  } catch (const std::exception&) {
    return; // rejected input: what we want for garbage
  }
  const int max_block = 1 + static_cast<int>(variation % 300);
  model->SetPrewarmOnReset(model->GetPrewarmSamples() <= kMaxFuzzedPrewarmSamples);
  model->Reset(48000.0, max_block);
  const int blocks[] = {max_block, 1, 0, 3 * max_block + 1, max_block / 2};
  const int longest = 3 * max_block + 1;
  std::vector<std::vector<NAM_SAMPLE>> in(model->NumInputChannels(), std::vector<NAM_SAMPLE>(longest));
  std::vector<std::vector<NAM_SAMPLE>> out(model->NumOutputChannels(), std::vector<NAM_SAMPLE>(longest));
  std::vector<NAM_SAMPLE*> in_ptrs, out_ptrs;
  for (auto& channel : in)
    in_ptrs.push_back(channel.data());
  for (auto& channel : out)
    out_ptrs.push_back(channel.data());
  const bool expect_no_nan = signal_scales_are_moderate(model_json);
  long t = 0;
  for (const int n : blocks) {
    for (auto& channel : in)
      for (int i = 0; i < n; ++i)
        channel[i] = 0.5 * std::sin(0.05 * static_cast<double>(t + i));
    model->process(in_ptrs.data(), out_ptrs.data(), n);
    for (const auto& channel : out)
      for (int i = 0; i < n; ++i)
        if (expect_no_nan && std::isnan(channel[i]))
          std::abort();
    t += n;
  }
}

std::vector<nlohmann::json> seed_models(const size_t max_bytes) {
  const char* from_environment = std::getenv("NAM_FUZZ_MODEL_DIRS");
  std::stringstream dirs(from_environment != nullptr ? from_environment : NAM_FUZZ_MODEL_DIRS);
  std::vector<nlohmann::json> models;
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      if (entry.path().extension() != ".nam" || entry.file_size() > max_bytes)
        continue;
      std::ifstream file(entry.path());
      nlohmann::json parsed = nlohmann::json::parse(file, nullptr, false);
      if (!parsed.is_discarded())
        models.push_back(std::move(parsed));
    }
  }
  return models;
}

} // namespace nam_fuzz
