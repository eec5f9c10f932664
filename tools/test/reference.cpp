#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "NAM/get_dsp.h"
#include "reference.h"

namespace nam_test {

std::filesystem::path reference_dir() {
  if (const char* env = std::getenv("NAM_REFERENCE_DIR"); env != nullptr && *env != '\0')
    return env;
  return NAM_DEFAULT_REFERENCE_DIR;
}

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string ReferenceCase::id() const {
  std::string stem = std::filesystem::path(model).stem().string();
  for (char& ch : stem)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return stem + (fast_tanh ? "_fast" : "_exact");
}

std::vector<ReferenceCase> read_manifest(const std::filesystem::path& dir) {
  std::ifstream file(dir / "manifest.tsv");
  if (!file)
    throw std::runtime_error("cannot read " + (dir / "manifest.tsv").string());
  std::vector<ReferenceCase> cases;
  std::string line;
  std::getline(file, line); // header
  while (std::getline(file, line)) {
    if (line.empty())
      continue;
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, '\t');)
      fields.push_back(field);
    if (fields.size() != 7)
      throw std::runtime_error("manifest.tsv: expected 7 fields in line: " + line);
    ReferenceCase c;
    c.model = fields[0];
    c.architecture = fields[1];
    c.shape = fields[2];
    c.fast_tanh = fields[3] == "fast";
    c.output = fields[4];
    c.rms = std::stod(fields[5]);
    c.peak = std::stod(fields[6]);
    cases.push_back(c);
  }
  return cases;
}

std::vector<float> read_f32(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    throw std::runtime_error("cannot read " + path.string());
  const auto bytes = static_cast<size_t>(file.tellg());
  std::vector<float> values(bytes / sizeof(float));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
  return values;
}

namespace {
// Sets the process-wide fast-tanh switch for the lifetime of the object.
struct FastTanhSwitch {
  explicit FastTanhSwitch(bool on) {
    if (on)
      nam::activations::Activation::enable_fast_tanh();
    else
      nam::activations::Activation::disable_fast_tanh();
  }
  ~FastTanhSwitch() { nam::activations::Activation::disable_fast_tanh(); }
};
} // namespace

std::unique_ptr<nam::DSP> load_model(const std::filesystem::path& file, bool fast_tanh) {
  const FastTanhSwitch fast(fast_tanh);
  return nam::get_dsp(file);
}

std::vector<float> render(nam::DSP& model, const std::vector<float>& input, int block, bool fast_tanh) {
  const FastTanhSwitch fast(fast_tanh);
  const double rate = model.GetExpectedSampleRate() > 0 ? model.GetExpectedSampleRate() : 48000.0;
  model.Reset(rate, block);
  const int in_channels = model.NumInputChannels();
  const int out_channels = model.NumOutputChannels();
  const size_t total = input.size();
  std::vector<std::vector<NAM_SAMPLE>> in(in_channels, std::vector<NAM_SAMPLE>(block));
  std::vector<std::vector<NAM_SAMPLE>> out(out_channels, std::vector<NAM_SAMPLE>(block));
  std::vector<NAM_SAMPLE*> in_ptrs(in_channels), out_ptrs(out_channels);
  for (int c = 0; c < in_channels; ++c)
    in_ptrs[c] = in[c].data();
  for (int c = 0; c < out_channels; ++c)
    out_ptrs[c] = out[c].data();
  std::vector<float> result(total * out_channels);
  for (size_t start = 0; start < total; start += block) {
    const int n = static_cast<int>(std::min<size_t>(block, total - start));
    for (int c = 0; c < in_channels; ++c)
      for (int i = 0; i < n; ++i)
        in[c][i] = input[start + i];
    model.process(in_ptrs.data(), out_ptrs.data(), n);
    for (int c = 0; c < out_channels; ++c)
      for (int i = 0; i < n; ++i)
        result[c * total + start + i] = static_cast<float>(out[c][i]);
  }
  return result;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size())
    return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!std::isfinite(d))
      return std::numeric_limits<double>::infinity();
    worst = std::max(worst, d);
  }
  return worst;
}

} // namespace nam_test
