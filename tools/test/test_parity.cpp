// Parity with the original library: every model of the reference set, rendered at several block sizes,
// must match the original's output within 1e-4 * max(1, peak) on every sample.

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "NAM/model_config.h"
#include "reference.h"

namespace nam_test {
namespace {

constexpr double kRequiredRatio = 1e-4; // the reference README's bound, relative to max(1, peak)
constexpr int kBlockSizes[] = {1, 37, 64, 512};

struct ParityParam {
  ReferenceCase reference;
  int block = 64;
  bool placeholder = false; // stands for "no reference data found"
};

std::vector<ParityParam> parity_params() {
  std::vector<ParityParam> params;
  try {
    for (const ReferenceCase& c : read_manifest(reference_dir()))
      for (const int block : kBlockSizes)
        params.push_back({c, block, false});
  } catch (const std::exception&) {
    params.push_back({{}, 0, true});
  }
  return params;
}

// Worst error ratio per reference case, printed when the suite ends.
struct Worst {
  std::mutex mutex;
  std::map<std::string, double> ratio;
};
Worst& worst() {
  static Worst w;
  return w;
}

class ParitySummary : public ::testing::Environment {
public:
  void TearDown() override {
    if (worst().ratio.empty())
      return;
    double overall = 0.0;
    std::string overall_case;
    for (const auto& [id, ratio] : worst().ratio)
      if (ratio >= overall) {
        overall = ratio;
        overall_case = id;
      }
    std::cout << "[parity] worst error ratio over " << worst().ratio.size()
              << " reference outputs: " << std::scientific << std::setprecision(2) << overall << " ("
              << overall_case << "), required <= " << kRequiredRatio << std::defaultfloat << "\n";
  }
};
const auto* const kSummary = ::testing::AddGlobalTestEnvironment(new ParitySummary);

class Parity : public ::testing::TestWithParam<ParityParam> {};

TEST_P(Parity, MatchesReference) {
  const ParityParam& p = GetParam();
  if (p.placeholder) {
    const std::string message = "no reference data at " + reference_dir().string() +
                                " (set NAM_REFERENCE_DIR to the directory holding manifest.tsv)";
    if (running_in_ci())
      FAIL() << message;
    GTEST_SKIP() << message;
  }
  if (!nam::ConfigParserRegistry::instance().has(p.reference.architecture))
    GTEST_SKIP() << "architecture " << p.reference.architecture
                 << " is not implemented yet: " << p.reference.model;

  const auto dir = reference_dir();
  const std::vector<float> input = read_f32(dir / "input.f32");
  const std::vector<float> expected = read_f32(dir / p.reference.output);
  auto model = load_model(dir / p.reference.model, p.reference.fast_tanh);
  const std::vector<float> actual = render(*model, input, p.block, p.reference.fast_tanh);

  ASSERT_EQ(actual.size(), expected.size()) << "output channel count differs";
  double peak = 0.0;
  for (const float v : expected)
    peak = std::max(peak, static_cast<double>(std::fabs(v)));
  const double ratio = max_abs_difference(actual, expected) / std::max(1.0, peak);
  {
    std::lock_guard<std::mutex> lock(worst().mutex);
    double& slot = worst().ratio[p.reference.id()];
    slot = std::max(slot, ratio);
  }
  RecordProperty("error_ratio", std::to_string(ratio));
  EXPECT_LE(ratio, kRequiredRatio) << p.reference.model << " at block " << p.block;
}

std::string parity_name(const ::testing::TestParamInfo<ParityParam>& info) {
  if (info.param.placeholder)
    return "NoReferenceData";
  return info.param.reference.id() + "_block" + std::to_string(info.param.block);
}

INSTANTIATE_TEST_SUITE_P(Reference, Parity, ::testing::ValuesIn(parity_params()), parity_name);

} // namespace
} // namespace nam_test
