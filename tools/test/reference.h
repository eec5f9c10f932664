#pragma once
// Access to the reference outputs of the original library (see ../shared/reference/README.md) and the
// rendering procedure that produced them.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "NAM/dsp.h"

namespace nam_test {

/// The reference directory: $NAM_REFERENCE_DIR, else the default fixed at configure time.
std::filesystem::path reference_dir();

/// True when the environment variable CI is "true" (missing reference data is then an error).
bool running_in_ci();

/// One row of manifest.tsv.
struct ReferenceCase {
  std::string model;        // path of the .nam file, relative to the reference directory
  std::string architecture; // as written in the file
  std::string shape;
  bool fast_tanh = false;
  std::string output; // path of the expected output, relative to the reference directory
  double rms = 0.0;
  double peak = 0.0;

  /// A readable identifier usable in test names, e.g. "a1_standard_fast".
  std::string id() const;
};

/// Reads manifest.tsv from `dir`. Throws std::runtime_error if it is missing or malformed.
std::vector<ReferenceCase> read_manifest(const std::filesystem::path& dir);

/// Reads a raw little-endian float32 file.
std::vector<float> read_f32(const std::filesystem::path& file);

/// Loads the model with the fast-tanh switch set as `fast_tanh` (switched off again afterwards).
std::unique_ptr<nam::DSP> load_model(const std::filesystem::path& file, bool fast_tanh);

/// Renders mono `input` the way the reference outputs were made: Reset(expected rate, block), then
/// consecutive blocks of `block` frames (every input channel gets the same signal). Returns the outputs
/// channel after channel. Fast tanh is switched on around processing when `fast_tanh` is set (LSTMs read it
/// while processing).
std::vector<float> render(nam::DSP& model, const std::vector<float>& input, int block,
                          bool fast_tanh = false);

/// max |a - b| over two equally long signals (infinity if the lengths differ or a value is not finite).
double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b);

} // namespace nam_test
