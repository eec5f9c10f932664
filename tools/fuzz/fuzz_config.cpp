// libFuzzer target that gets past the JSON parser: the input picks a valid seed model and a list of edits
// to its config values and weight count, so every architecture's parser and constructor see near-valid
// configs (wrong sizes, zero, negative and huge values, wrong types, too few or too many weights).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_model_run.h"

namespace {

// Seed models up to this size keep each run fast.
constexpr size_t kMaxSeedBytes = 200 * 1024;

std::vector<nlohmann::json>& seeds() {
  static std::vector<nlohmann::json> models = nam_fuzz::seed_models(kMaxSeedBytes);
  return models;
}

// JSON pointers to every scalar inside `j` (weights arrays excluded: they are edited as a count).
void collect_scalars(const nlohmann::json& j, const nlohmann::json::json_pointer& at,
                     std::vector<nlohmann::json::json_pointer>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "weights")
        collect_scalars(*it, at / it.key(), out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      collect_scalars(j[i], at / i, out);
  } else {
    out.push_back(at);
  }
}

nlohmann::json interesting_value(const uint8_t choice) {
  static const nlohmann::json values[] = {0,
                                          1,
                                          -1,
                                          2,
                                          3,
                                          4,
                                          7,
                                          8,
                                          16,
                                          64,
                                          1000,
                                          1 << 20,
                                          1 << 30,
                                          -(1 << 30),
                                          1e9,
                                          0.5,
                                          -0.25,
                                          1e30,
                                          true,
                                          false,
                                          nullptr,
                                          "Tanh",
                                          "gated",
                                          "",
                                          nlohmann::json::array(),
                                          nlohmann::json::object(),
                                          2.5,
                                          24,
                                          6,
                                          15,
                                          12,
                                          5};
  return values[choice % std::size(values)];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || seeds().empty())
    return 0;
  nlohmann::json model = seeds()[data[0] % seeds().size()];
  std::vector<nlohmann::json::json_pointer> scalars;
  collect_scalars(model["config"], nlohmann::json::json_pointer("/config"), scalars);
  for (size_t i = 1; i + 2 < size; i += 3) {
    const uint8_t kind = data[i];
    const uint16_t where = static_cast<uint16_t>(data[i + 1] << 8 | data[i + 2]);
    if (kind % 8 == 0 && model["weights"].is_array()) {
      // Weight count edit: drop or append a few weights.
      auto& weights = model["weights"];
      const int delta = static_cast<int>(where % 7) - 3;
      for (int d = 0; d < delta; ++d)
        weights.push_back(0.125 * d);
      for (int d = 0; d > delta && !weights.empty(); --d)
        weights.erase(weights.size() - 1);
    } else if (!scalars.empty()) {
      model[scalars[where % scalars.size()]] = interesting_value(kind);
    }
  }
  nam_fuzz::load_and_run(model, size * 2654435761u);
  return 0;
}
