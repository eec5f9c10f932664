// The example models: example_models/ must be exactly what tools/make_models generates, the generator's
// weight counting must agree with every real model file we have, and every example model must load and
// produce a sane signal.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/get_dsp.h"
#include "NAM/model_config.h"
#include "model_generator.h"
#include "reference.h"

namespace nam_test {
namespace {

const std::filesystem::path kExampleDir = NAM_EXAMPLE_MODELS_DIR;

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_bytes(path));
}

// 1-based line of the first difference between two texts (so a failure does not print whole files).
std::size_t first_differing_line(const std::string& a, const std::string& b) {
  const auto [mismatch, unused] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return 1 + static_cast<std::size_t>(std::count(a.begin(), mismatch, '\n'));
}

// A fresh directory under the test temp dir, removed again at the end of the test.
class ScratchDirectory {
public:
  ScratchDirectory() {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    _path = std::filesystem::path(::testing::TempDir()) / ("nam_example_models_" + std::to_string(stamp));
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(_path, ignored);
  }
  const std::filesystem::path& path() const { return _path; }

private:
  std::filesystem::path _path;
};

TEST(ExampleModels, CommittedFilesAreExactlyWhatTheGeneratorWrites) {
  const ScratchDirectory scratch;
  const auto models = nam_tools::generate_example_models();
  nam_tools::write_example_models(models, scratch.path());

  std::set<std::string> generated;
  for (const auto& model : models) {
    generated.insert(model.file_name);
    const std::filesystem::path committed = kExampleDir / model.file_name;
    ASSERT_TRUE(std::filesystem::exists(committed))
        << committed << " is missing: run `make_models example_models`";
    const std::string fresh = read_bytes(scratch.path() / model.file_name);
    const std::string stored = read_bytes(committed);
    EXPECT_TRUE(fresh == stored) << model.file_name << " differs from the generator's output from line "
                                 << first_differing_line(fresh, stored)
                                 << ": run `make_models example_models`";
  }
  for (const auto& entry : std::filesystem::directory_iterator(kExampleDir))
    if (entry.path().extension() == ".nam") {
      EXPECT_TRUE(generated.count(entry.path().filename().string()))
          << entry.path() << " is not made by make_models";
    }
}

TEST(ExampleModels, GenerationIsRepeatable) {
  const auto first = nam_tools::generate_example_models();
  const auto second = nam_tools::generate_example_models();
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(first[i].text, second[i].text) << first[i].file_name;
}

// Counts of the trainer's presets, as found in trained files and the reference set.
TEST(ExampleModels, PresetsHaveTheTrainersWeightCounts) {
  const std::map<std::string, std::size_t> expected = {
      {"a1-standard.nam", 13802}, {"a1-lite.nam", 6554}, {"a1-feather.nam", 3026}, {"a1-nano.nam", 842},
      {"lstm-1x24.nam", 2569},    {"lstm-2x8.nam", 905}, {"lstm-1x16.nam", 1201},  {"lstm-1x12.nam", 709}};
  std::size_t seen = 0;
  for (const auto& model : nam_tools::generate_example_models()) {
    const auto document = nlohmann::json::parse(model.text);
    EXPECT_EQ(document.at("weights").size(), model.weight_count) << model.file_name;
    if (const auto it = expected.find(model.file_name); it != expected.end()) {
      EXPECT_EQ(model.weight_count, it->second) << model.file_name;
      ++seen;
    }
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(ExampleModels, GroupedModelUsesTheNewestLayout) {
  const auto models = nam_tools::generate_example_models();
  const auto grouped = std::find_if(models.begin(), models.end(),
                                    [](const auto& m) { return m.file_name == "wavenet-grouped.nam"; });
  ASSERT_NE(grouped, models.end());
  const auto document = nlohmann::json::parse(grouped->text);
  EXPECT_EQ(document.at("version"), "0.7.0");
  const auto& arrays = document.at("config").at("layers");
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays[0].at("groups_input"), 2);
  EXPECT_EQ(arrays[1].at("groups_input"), 4);
  EXPECT_EQ(arrays[1].at("bottleneck"), 4);
  EXPECT_TRUE(arrays[0].at("head1x1").at("active").get<bool>());
  EXPECT_EQ(arrays[0].at("layer1x1").at("groups"), 2);
}

// Checks the generator's weight counting against a real file and the models nested in it.
void expect_count_matches(const nlohmann::json& model, const std::string& where, int& checked) {
  const std::string architecture = model.at("architecture");
  const nlohmann::json& config = model.at("config");
  const std::size_t provided = model.at("weights").size();
  if (architecture == "WaveNet") {
    EXPECT_EQ(nam_tools::count_wavenet_weights(config), provided) << where;
    ++checked;
    if (config.contains("condition_dsp") && !config.at("condition_dsp").is_null())
      expect_count_matches(config.at("condition_dsp"), where + ".condition_dsp", checked);
  } else if (architecture == "LSTM") {
    EXPECT_EQ(nam_tools::count_lstm_weights(config), provided) << where;
    ++checked;
  } else if (architecture == "SlimmableContainer") {
    const auto& submodels = config.at("submodels");
    for (std::size_t i = 0; i < submodels.size(); ++i)
      expect_count_matches(submodels[i].at("model"), where + ".submodels[" + std::to_string(i) + "]",
                           checked);
  }
}

TEST(ExampleModels, WeightCountingAgreesWithEveryReferenceFile) {
  std::vector<ReferenceCase> cases;
  try {
    cases = read_manifest(reference_dir());
  } catch (const std::exception& e) {
    if (running_in_ci())
      FAIL() << e.what();
    GTEST_SKIP() << "no reference data: " << e.what();
  }
  std::set<std::string> files;
  for (const ReferenceCase& c : cases)
    files.insert(c.model);
  int checked = 0;
  for (const std::string& file : files)
    expect_count_matches(read_json(reference_dir() / file), file, checked);
  EXPECT_GT(checked, 20); // the reference set has well over 20 WaveNet and LSTM models
}

class ExampleModelRender : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleModelRender, LoadsAndRendersAFiniteAudibleUnclippedSignal) {
  const std::filesystem::path path = kExampleDir / GetParam();
  const std::string architecture = read_json(path).at("architecture");
  if (!nam::ConfigParserRegistry::instance().has(architecture))
    GTEST_SKIP() << architecture << " is not registered yet";

  const auto model = nam::get_dsp(path);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->GetExpectedSampleRate(), 48000.0);
  EXPECT_TRUE(model->HasLoudness());

  constexpr int kRate = 48000;
  constexpr double kPi = 3.14159265358979323846;
  std::vector<float> sine(kRate);
  for (int i = 0; i < kRate; ++i)
    sine[i] = static_cast<float>(0.5 * std::sin(2.0 * kPi * 220.0 * i / kRate));
  const std::vector<float> output = render(*model, sine, 64);

  double peak = 0.0;
  for (const float sample : output) {
    ASSERT_TRUE(std::isfinite(sample));
    peak = std::max(peak, std::fabs(static_cast<double>(sample)));
  }
  EXPECT_GT(peak, 1e-3) << "silent";
  EXPECT_LT(peak, 1.0) << "clipping";
}

INSTANTIATE_TEST_SUITE_P(ExampleModels, ExampleModelRender,
                         ::testing::ValuesIn(nam_tools::example_model_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.rfind('.'));
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });

} // namespace
} // namespace nam_test
