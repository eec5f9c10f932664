// libFuzzer target: arbitrary bytes as a .nam file. Run with the seed corpus made by
// tools/fuzz/make_corpus.sh (README.md, "Robustness").
#include <cstddef>
#include <cstdint>

#include "fuzz_model_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json model = nlohmann::json::parse(data, data + size, nullptr, false);
  if (model.is_discarded())
    return 0;
  uint64_t variation = 0;
  for (size_t i = 0; i < size && i < 8; ++i)
    variation = variation * 131 + data[i];
  nam_fuzz::load_and_run(model, variation);
  return 0;
}
