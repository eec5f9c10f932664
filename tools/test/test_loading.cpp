// Loading .nam files: every bad input is a std::runtime_error that names the file (when loaded from a
// path), the key and what was expected; the version rule; metadata; the get_dsp overloads and the registry.

#include <cmath>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "NAM/config_reader.h"
#include "NAM/get_dsp.h"
#include "NAM/registry.h"
#include "allocation_tracking.h"
#include "model_builders.h"

namespace nam_test {
namespace {

// A valid model: taps 0.5, -0.25, 0.125 and bias 0.1.
nlohmann::json valid_model() {
  return linear_model({0.5f, -0.25f, 0.125f}, 0.1f);
}

// Loads `model` from a file and returns the error message (the test fails if it loads).
std::string file_error(const TempDir& dir, const nlohmann::json& model,
                       std::filesystem::path* written = nullptr) {
  const std::filesystem::path file = dir.write("model.nam", model);
  if (written != nullptr)
    *written = file;
  return runtime_error_message([&] { nam::get_dsp(file); });
}

std::string json_error(const nlohmann::json& model) {
  return runtime_error_message([&] { nam::get_dsp(model); });
}

// Processes a unit impulse followed by silence and returns the first `n` outputs.
std::vector<double> impulse_response(nam::DSP& dsp, const int n) {
  dsp.Reset(48000.0, n);
  ChannelBuffers in(dsp.NumInputChannels(), n), out(dsp.NumOutputChannels(), n);
  for (int c = 0; c < dsp.NumInputChannels(); ++c)
    in[c][0] = 1.0;
  dsp.process(in.pointers(), out.pointers(), n);
  return {out[0].begin(), out[0].end()};
}

// Captures what loading writes to std::cerr.
template <class Action>
std::string stderr_of(Action&& action) {
  ::testing::internal::CaptureStderr();
  try {
    action();
  } catch (...) {
    ::testing::internal::GetCapturedStderr();
    throw;
  }
  return ::testing::internal::GetCapturedStderr();
}

// The file itself ==========================================================================================

TEST(LoadingFile, ValidFileLoadsAndComputes) {
  TempDir dir;
  const auto file = dir.write("ok.nam", valid_model());
  auto dsp = nam::get_dsp(file);
  ASSERT_NE(dsp, nullptr);
  const auto y = impulse_response(*dsp, 4);
  EXPECT_NEAR(y[0], 0.6, 1e-6);
  EXPECT_NEAR(y[1], -0.15, 1e-6);
  EXPECT_NEAR(y[2], 0.225, 1e-6);
  EXPECT_NEAR(y[3], 0.1, 1e-6);
}

TEST(LoadingFile, MissingFileNamesThePath) {
  TempDir dir;
  const auto file = dir.path() / "nowhere.nam";
  const std::string message = runtime_error_message([&] { nam::get_dsp(file); });
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "does not exist"));
}

TEST(LoadingFile, DirectoryIsRefusedWithTheLibraryError) {
  TempDir dir;
  try {
    nam::get_dsp(dir.path());
    FAIL() << "a directory loaded";
  } catch (const nam::NamFileValidationError& e) {
    EXPECT_TRUE(contains(std::string(e.what()), dir.path().string()));
    EXPECT_TRUE(contains(std::string(e.what()), "directory"));
  }
}

TEST(LoadingFile, EmptyFileIsAParseErrorNamingTheFile) {
  TempDir dir;
  const auto file = dir.write("empty.nam", std::string());
  const std::string message = runtime_error_message([&] { nam::get_dsp(file); });
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "parse"));
  EXPECT_TRUE(contains(message, "empty"));
}

TEST(LoadingFile, ValidationErrorsAreNamFileValidationErrors) {
  TempDir dir;
  const auto file = dir.write("empty.nam", std::string());
  EXPECT_THROW(nam::get_dsp(file), nam::NamFileValidationError);
  EXPECT_THROW(nam::validate_nam_file(file), nam::NamFileValidationError);
}

class MalformedJson : public ::testing::TestWithParam<const char*> {};

TEST_P(MalformedJson, IsAParseErrorNamingTheFileAndPosition) {
  TempDir dir;
  const auto file = dir.write("bad.nam", std::string(GetParam()));
  const std::string message = runtime_error_message([&] { nam::get_dsp(file); });
  EXPECT_TRUE(contains(message, "Could not parse .nam file [" + file.string() + "]"));
  EXPECT_TRUE(contains(message, "line 1"));
}

INSTANTIATE_TEST_SUITE_P(LoadingFile, MalformedJson,
                         ::testing::Values("{\"version\":", "{\"version\": \"0.5.4\",, }",
                                           "{\"weights\": [1, 2", "{'version': '0.5.4'}",
                                           "{\"a\": 1 // comment\n}", "nul", "{\"weights\": [1, 2,]}",
                                           "\xff\xfe{}"));

TEST(LoadingFile, TrailingBytesAfterTheObjectAreIgnored) {
  // The original stops reading after the first complete JSON value; files that load there load here.
  TempDir dir;
  const auto file = dir.write("trailing.nam", valid_model().dump() + " trailing garbage");
  EXPECT_NE(nam::get_dsp(file), nullptr);
}

class NonObjectRoot : public ::testing::TestWithParam<const char*> {};

TEST_P(NonObjectRoot, IsRefused) {
  TempDir dir;
  const auto file = dir.write("root.nam", std::string(GetParam()));
  const std::string message = runtime_error_message([&] { nam::get_dsp(file); });
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "root JSON value must be an object"));
  // The JSON entry point refuses it as well.
  EXPECT_TRUE(contains(json_error(nlohmann::json::parse(GetParam())), "object"));
}

INSTANTIATE_TEST_SUITE_P(LoadingFile, NonObjectRoot,
                         ::testing::Values("[]", "[{}]", "42", "\"model\"", "null", "true"));

class MissingKey : public ::testing::TestWithParam<const char*> {};

TEST_P(MissingKey, FromAFileNamesTheFileAndTheKey) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model.erase(GetParam());
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "missing required key \"" + std::string(GetParam()) + "\""));
}

TEST_P(MissingKey, FromJsonNamesTheKey) {
  nlohmann::json model = valid_model();
  model.erase(GetParam());
  const std::string message = json_error(model);
  EXPECT_TRUE(contains(message, GetParam()));
  EXPECT_TRUE(contains(message, "missing"));
}

TEST_P(MissingKey, NullValueIsRefusedNamingTheKey) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model[GetParam()] = nullptr;
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(LoadingFile, MissingKey,
                         ::testing::Values("version", "architecture", "config", "weights"));

TEST(LoadingFile, MissingKeysAreReportedInTheOriginalsOrder) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model.erase("weights");
  model.erase("architecture");
  EXPECT_TRUE(contains(file_error(dir, model), "missing required key \"architecture\""));
}

TEST(LoadingFile, UnknownTopLevelKeysAreIgnored) {
  nlohmann::json model = valid_model();
  model["notes"] = "written by hand";
  model["training"] = {{"epochs", 100}};
  EXPECT_NE(nam::get_dsp(model), nullptr);
}

// Architecture ===========================================================================================

class UnknownArchitecture : public ::testing::TestWithParam<const char*> {};

TEST_P(UnknownArchitecture, IsRefusedListingTheKnownOnes) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["architecture"] = GetParam();
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "No config parser registered for architecture: " + std::string(GetParam())));
  for (const std::string& known : nam::ConfigParserRegistry::instance().names())
    EXPECT_TRUE(contains(message, known));
}

INSTANTIATE_TEST_SUITE_P(LoadingFile, UnknownArchitecture,
                         ::testing::Values("Transformer", "linear", "Lstm", "CatLSTM", "SlimmableWavenet",
                                           ""));

TEST(LoadingFile, ArchitectureMustBeAString) {
  nlohmann::json model = valid_model();
  model["architecture"] = 3;
  const std::string message = json_error(model);
  EXPECT_TRUE(contains(message, "architecture"));
  EXPECT_TRUE(contains(message, "expected a string"));
}

TEST(Registry, KnowsLinearAndListsNamesSorted) {
  const auto& registry = nam::ConfigParserRegistry::instance();
  EXPECT_TRUE(registry.has("Linear"));
  EXPECT_FALSE(registry.has("linear"));
  const auto names = registry.names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "Linear"), names.end());
}

TEST(Registry, RefusesASecondParserForTheSameName) {
  const std::string message = runtime_error_message(
      [] { nam::ConfigParserRegistry::instance().registerParser("Linear", nam::linear::create_config); });
  EXPECT_TRUE(contains(message, "already registered"));
  EXPECT_TRUE(contains(message, "Linear"));
}

// A custom architecture registered through the factory extension API: a DSP that doubles its input and
// records the prewarm-on-reset flag it saw at construction.
std::atomic<int> gDoublerBuilt{0};
std::atomic<bool> gDoublerPrewarmAtConstruction{false};

class Doubler : public nam::DSP {
public:
  Doubler(const double rate) : DSP(1, 1, rate) {
    ++gDoublerBuilt;
    gDoublerPrewarmAtConstruction = GetPrewarmOnReset();
  }
  void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int n) override {
    for (int i = 0; i < n; ++i)
      output[0][i] = 2 * input[0][i];
  }
};

const nam::factory::Helper kRegisterDoubler("TestDoubler",
                                            [](const nlohmann::json& config, std::vector<float>& weights,
                                               const double rate) -> std::unique_ptr<nam::DSP> {
                                              const nam::ConfigReader reader(config, "config");
                                              reader.get_bool("enabled");
                                              if (!weights.empty())
                                                throw std::runtime_error("TestDoubler takes no weights");
                                              return std::make_unique<Doubler>(rate);
                                            });

nlohmann::json doubler_model() {
  return {{"version", "0.7.0"},
          {"architecture", "TestDoubler"},
          {"config", {{"enabled", true}}},
          {"weights", nlohmann::json::array()},
          {"sample_rate", 44100}};
}

TEST(Registry, FactoryHelperRegistersACustomArchitecture) {
  ASSERT_TRUE(nam::ConfigParserRegistry::instance().has("TestDoubler"));
  TempDir dir;
  std::vector<std::unique_ptr<nam::DSP>> models;
  models.push_back(nam::get_dsp(doubler_model()));
  models.push_back(nam::get_dsp(dir.write("doubler.nam", doubler_model())));
  for (auto& dsp : models) {
    EXPECT_EQ(dsp->GetExpectedSampleRate(), 44100.0);
    NAM_SAMPLE x = 0.25, y = 0;
    NAM_SAMPLE *in = &x, *out = &y;
    dsp->process(&in, &out, 1);
    EXPECT_EQ(y, 0.5);
  }
}

TEST(Registry, ErrorsOfACustomParserReachTheCallerAsRuntimeErrors) {
  nlohmann::json model = doubler_model();
  model["config"] = {{"enabled", "yes"}};
  EXPECT_TRUE(contains(json_error(model), "config.enabled"));
  model = doubler_model();
  model["weights"] = {1.0};
  EXPECT_TRUE(contains(json_error(model), "takes no weights"));
}

// Versions ================================================================================================

class UnsupportedVersion : public ::testing::TestWithParam<const char*> {};

TEST_P(UnsupportedVersion, IsRefusedNamingTheVersionAndTheSupportedRange) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["version"] = GetParam();
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "unsupported version " + std::string(GetParam())));
  EXPECT_TRUE(contains(message, nam::EARLIEST_SUPPORTED_NAM_FILE_VERSION));
  EXPECT_EQ(nam::is_version_supported(GetParam()), nam::Supported::NO);
}

INSTANTIATE_TEST_SUITE_P(LoadingVersion, UnsupportedVersion,
                         ::testing::Values("0.4.9", "0.4.0", "0.0.1", "0.8.0", "0.10.0", "1.0.0", "1.7.0",
                                           "0.7", "0.7.0-beta", "v0.7.0", " 0.7.0", "0.7.0 ", "", "abc",
                                           "0..0", "1.2.3.4", "0.7.99999999999", "99999999999.0.0", "-0.5.0",
                                           "0.5.-1"));

class SupportedVersion : public ::testing::TestWithParam<const char*> {};

TEST_P(SupportedVersion, LoadsSilently) {
  nlohmann::json model = valid_model();
  model["version"] = GetParam();
  std::unique_ptr<nam::DSP> dsp;
  const std::string warnings = stderr_of([&] { dsp = nam::get_dsp(model); });
  EXPECT_NE(dsp, nullptr);
  EXPECT_EQ(warnings, "");
  EXPECT_EQ(nam::is_version_supported(GetParam()), nam::Supported::YES);
}

INSTANTIATE_TEST_SUITE_P(LoadingVersion, SupportedVersion,
                         ::testing::Values("0.5.0", "0.5.4", "0.5.99", "0.6.0", "0.6.3", "0.7.0",
                                           "00.07.00"));

class PartiallySupportedVersion : public ::testing::TestWithParam<const char*> {};

TEST_P(PartiallySupportedVersion, LoadsWithAWarning) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["version"] = GetParam();
  const auto file = dir.write("newer.nam", model);
  std::unique_ptr<nam::DSP> dsp;
  const std::string warnings = stderr_of([&] { dsp = nam::get_dsp(file); });
  EXPECT_NE(dsp, nullptr);
  EXPECT_TRUE(contains(warnings, "partially-supported version " + std::string(GetParam())));
  EXPECT_EQ(nam::is_version_supported(GetParam()), nam::Supported::PARTIAL);
}

INSTANTIATE_TEST_SUITE_P(LoadingVersion, PartiallySupportedVersion,
                         ::testing::Values("0.7.1", "0.7.2", "0.7.99"));

TEST(LoadingVersion, VersionMustBeAString) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["version"] = 0.5;
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "version"));
  EXPECT_TRUE(contains(message, "expected a string"));
}

TEST(LoadingVersion, VerifyConfigVersionThrowsOnlyForUnsupported) {
  EXPECT_NO_THROW(nam::verify_config_version("0.6.0"));
  EXPECT_THROW(nam::verify_config_version("0.8.0"), std::runtime_error);
  const std::string warnings = stderr_of([] { nam::verify_config_version("0.7.5"); });
  EXPECT_TRUE(contains(warnings, "Continuing with partial support"));
}

TEST(LoadingVersion, ParseVersionAndOrdering) {
  const nam::Version v = nam::ParseVersion("0.7.12");
  EXPECT_EQ(v.major, 0);
  EXPECT_EQ(v.minor, 7);
  EXPECT_EQ(v.patch, 12);
  EXPECT_EQ(v.toString(), "0.7.12");
  EXPECT_TRUE(nam::Version(0, 5, 9) < nam::Version(0, 6, 0));
  EXPECT_TRUE(nam::Version(1, 0, 0) > nam::Version(0, 99, 99));
  EXPECT_FALSE(nam::Version(0, 7, 0) < nam::Version(0, 7, 0));
  EXPECT_THROW(nam::ParseVersion("a.b.c"), std::invalid_argument);
  EXPECT_THROW(nam::ParseVersion("0.-1.0"), std::invalid_argument);
  EXPECT_THROW(nam::ParseVersion("0.7.99999999999"), std::out_of_range);
}

// Widens support for one made-up version; registering it has no effect on any other version.
class FutureVersionSupport : public nam::IVersionSupportChecker {
public:
  nam::Supported support(const std::string& version) const override {
    return version == "9.9.9" ? nam::Supported::YES : nam::Supported::NO;
  }
};

TEST(LoadingVersion, ExtraCheckersCanOnlyWidenSupport) {
  EXPECT_THROW(nam::register_version_support_checker(nullptr), std::invalid_argument);
  nam::register_version_support_checker(std::make_shared<FutureVersionSupport>());
  EXPECT_EQ(nam::is_version_supported("9.9.9"), nam::Supported::YES);
  EXPECT_EQ(nam::is_version_supported("0.7.0"), nam::Supported::YES);
  EXPECT_EQ(nam::is_version_supported("0.7.1"), nam::Supported::PARTIAL);
  EXPECT_EQ(nam::is_version_supported("0.8.0"), nam::Supported::NO);
  nlohmann::json model = valid_model();
  model["version"] = "9.9.9";
  EXPECT_NE(nam::get_dsp(model), nullptr);
}

// Weights =================================================================================================

TEST(LoadingWeights, MustBeAnArray) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["weights"] = {{"w", 1.0}};
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "weights"));
  EXPECT_TRUE(contains(message, "expected an array of numbers"));
}

class NonNumericWeight : public ::testing::TestWithParam<nlohmann::json> {};

TEST_P(NonNumericWeight, IsRefusedNamingItsIndex) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["weights"][2] = GetParam();
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "weights[2]"));
  EXPECT_TRUE(contains(message, "expected a number"));
}

INSTANTIATE_TEST_SUITE_P(LoadingWeights, NonNumericWeight,
                         ::testing::Values(nlohmann::json("0.5"), nlohmann::json(nullptr),
                                           nlohmann::json(true), nlohmann::json::array({1.0}),
                                           nlohmann::json::object()));

TEST(LoadingWeights, NumbersOutsideFloatRangeAreRefused) {
  nlohmann::json model = valid_model();
  model["weights"][1] = 1e300;
  const std::string message = json_error(model);
  EXPECT_TRUE(contains(message, "weights[1]"));
  EXPECT_TRUE(contains(message, "32-bit float"));
}

TEST(LoadingWeights, IntegersAndExponentsAreNumbers) {
  nlohmann::json model = linear_model({0, 0, 0}, 0.0f);
  model["weights"] = nlohmann::json::parse("[1, -2, 25e-2, 0]");
  auto dsp = nam::get_dsp(model);
  const auto y = impulse_response(*dsp, 3);
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(y[1], -2.0);
  EXPECT_EQ(y[2], 0.25);
}

class WrongWeightCount : public ::testing::TestWithParam<int> {};

TEST_P(WrongWeightCount, IsRefusedStatingBothCounts) {
  TempDir dir;
  nlohmann::json model = valid_model(); // 3 taps + bias = 4 weights
  nlohmann::json weights = nlohmann::json::array();
  for (int i = 0; i < GetParam(); ++i)
    weights.push_back(0.1);
  model["weights"] = weights;
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "needs 4 weights"));
  EXPECT_TRUE(contains(message, "got " + std::to_string(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(LoadingWeights, WrongWeightCount, ::testing::Values(0, 1, 3, 5, 100));

TEST(LoadingWeights, EmptyWeightsFitAnEmptyFilter) {
  nlohmann::json model = linear_model({});
  EXPECT_EQ(model["weights"].size(), 0u);
  auto dsp = nam::get_dsp(model);
  const auto y = impulse_response(*dsp, 4);
  for (const double v : y)
    EXPECT_EQ(v, 0.0);
}

// Config keys =============================================================================================

struct ConfigCase {
  const char* name;
  const char* key;      // the config key that is changed (removed when value is discarded)
  nlohmann::json value; // discarded = remove the key
  const char* expected; // a phrase the message must contain besides the key path
};

void PrintTo(const ConfigCase& c, std::ostream* os) {
  *os << c.name;
}

class BadLinearConfig : public ::testing::TestWithParam<ConfigCase> {};

TEST_P(BadLinearConfig, IsRefusedNamingFileKeyAndExpectation) {
  const ConfigCase& c = GetParam();
  TempDir dir;
  nlohmann::json model = valid_model();
  if (c.value.is_discarded())
    model["config"].erase(c.key);
  else
    model["config"][c.key] = c.value;
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "config." + std::string(c.key)));
  EXPECT_TRUE(contains(message, c.expected));
}

const nlohmann::json kRemove = nlohmann::json::value_t::discarded;

INSTANTIATE_TEST_SUITE_P(
    LoadingConfig, BadLinearConfig,
    ::testing::Values(
        ConfigCase{"missing_receptive_field", "receptive_field", kRemove, "missing"},
        ConfigCase{"missing_bias", "bias", kRemove, "missing"},
        ConfigCase{"negative_receptive_field", "receptive_field", -1, "between 0 and 16777216, got -1"},
        ConfigCase{"string_receptive_field", "receptive_field", "3", "expected an integer"},
        ConfigCase{"fractional_receptive_field", "receptive_field", 2.5, "expected an integer"},
        ConfigCase{"array_receptive_field", "receptive_field", {3}, "expected an integer"},
        ConfigCase{"null_receptive_field", "receptive_field", nullptr, "must not be null"},
        ConfigCase{"huge_receptive_field", "receptive_field", 1000000000, "between 0 and"},
        ConfigCase{"overflowing_receptive_field", "receptive_field", 1e30, "expected an integer"},
        ConfigCase{"numeric_bias", "bias", 1, "true or false"},
        ConfigCase{"string_bias", "bias", "true", "true or false"},
        ConfigCase{"zero_in_channels", "in_channels", 0, "between 1 and 4096, got 0"},
        ConfigCase{"negative_in_channels", "in_channels", -2, "got -2"},
        ConfigCase{"zero_out_channels", "out_channels", 0, "got 0"},
        ConfigCase{"huge_in_channels", "in_channels", 1000000000, "between 1 and"},
        ConfigCase{"huge_out_channels", "out_channels", 2147483647, "between 1 and"},
        ConfigCase{"string_channels", "in_channels", "1", "expected an integer"},
        ConfigCase{"unknown_implementation", "implementation", "winograd",
                   "Unsupported Linear implementation: winograd"},
        ConfigCase{"numeric_implementation", "implementation", 2, "expected a string"}),
    [](const ::testing::TestParamInfo<ConfigCase>& info) { return std::string(info.param.name); });

TEST(LoadingConfig, ConfigMustBeAnObject) {
  for (const nlohmann::json& config :
       {nlohmann::json::array({1, 2}), nlohmann::json("Linear"), nlohmann::json(3)}) {
    nlohmann::json model = valid_model();
    model["config"] = config;
    const std::string message = json_error(model);
    EXPECT_TRUE(contains(message, "config"));
    EXPECT_TRUE(contains(message, "expected a JSON object"));
  }
}

TEST(LoadingConfig, AbsurdSizesAreRefusedByTheParserFromTheConfigAlone) {
  // A 10^9-tap filter (4 GB of history) or 10^9 channels must be refused by the parser, from the config
  // alone: the load stays small even though the weight list is short.
  for (const auto& [key, value] : {std::pair<const char*, int>{"receptive_field", 1000000000},
                                   {"in_channels", 1000000000},
                                   {"out_channels", 1000000000}}) {
    nlohmann::json config = valid_model()["config"];
    config[key] = value;
    const std::string message = runtime_error_message([&] { nam::linear::parse_config_json(config); });
    EXPECT_TRUE(contains(message, std::string("config.") + key));
    EXPECT_TRUE(contains(message, "between"));
  }
}

TEST(LoadingConfig, IntegralFloatsAndLargestSizesAreAccepted) {
  nlohmann::json config = {{"receptive_field", 3.0}, {"bias", false}, {"in_channels", 2.0}};
  const auto parsed = nam::linear::parse_config_json(config);
  EXPECT_EQ(parsed.receptive_field, 3);
  EXPECT_EQ(parsed.in_channels, 2);
  EXPECT_EQ(parsed.out_channels, 1);
  config["in_channels"] = nam::kMaxChannels;
  EXPECT_EQ(nam::linear::parse_config_json(config).in_channels, nam::kMaxChannels);
}

TEST(LoadingConfig, ImplementationNamesAreCaseInsensitive) {
  using nam::LinearImplementation;
  const std::pair<const char*, LinearImplementation> names[] = {
      {"auto", LinearImplementation::Auto},           {"AUTO", LinearImplementation::Auto},
      {"direct", LinearImplementation::Direct},       {"Legacy", LinearImplementation::Direct},
      {"old", LinearImplementation::Direct},          {"fft", LinearImplementation::FFT},
      {"Partitioned_FFT", LinearImplementation::FFT}, {"partitioned-fft", LinearImplementation::FFT}};
  for (const auto& [name, expected] : names) {
    nlohmann::json model = valid_model();
    model["config"]["implementation"] = name;
    auto dsp = nam::get_dsp(model);
    auto* linear = dynamic_cast<nam::Linear*>(dsp.get());
    ASSERT_NE(linear, nullptr);
    EXPECT_EQ(linear->GetRequestedImplementation(), expected) << name;
    EXPECT_NEAR(impulse_response(*dsp, 2)[1], -0.15, 1e-6) << name;
  }
}

TEST(LoadingConfig, ReaderReportsNestedPathsAndFoundValues) {
  const nlohmann::json config = nlohmann::json::parse(R"({"layers": [{"dilations": [1, 2, "x"]}]})");
  const nam::ConfigReader root(config, "config");
  const nam::ConfigReader layer(root.require("layers")[0], root.path_of("layers") + "[0]");
  const std::string message = runtime_error_message([&] { layer.get_int_array("dilations", 1); });
  EXPECT_TRUE(contains(message, "config.layers[0].dilations[2]"));
  EXPECT_TRUE(contains(message, "expected an integer, got string \"x\""));
  EXPECT_TRUE(contains(runtime_error_message([&] { layer.get_int("channels"); }),
                       "config.layers[0].channels: required key is missing"));
  EXPECT_TRUE(contains(runtime_error_message([&] { nam::ConfigReader(config["layers"], "config.layers"); }),
                       "config.layers: expected a JSON object, got array"));
}

// Metadata and sample rate ===============================================================================

TEST(LoadingMetadata, LevelsAndLoudnessAreApplied) {
  nlohmann::json model = valid_model();
  model["metadata"] = {{"loudness", -37.84}, {"input_level_dbu", 18.3}, {"output_level_dbu", 12.3},
                       {"gain", 0.135},      {"name", "test"},          {"date", {{"year", 2024}}}};
  auto dsp = nam::get_dsp(model);
  ASSERT_TRUE(dsp->HasLoudness());
  EXPECT_EQ(dsp->GetLoudness(), -37.84);
  ASSERT_TRUE(dsp->HasInputLevel());
  ASSERT_TRUE(dsp->HasOutputLevel());
  // Levels are kept in single precision, as in the original.
  EXPECT_EQ(dsp->GetInputLevel(), static_cast<double>(18.3f));
  EXPECT_EQ(dsp->GetOutputLevel(), static_cast<double>(12.3f));
}

TEST(LoadingMetadata, AbsentNullOrNonObjectMetadataMeansNothingKnown) {
  for (const nlohmann::json& metadata :
       {nlohmann::json(nlohmann::json::value_t::discarded), nlohmann::json(nullptr), nlohmann::json("notes"),
        nlohmann::json::array({1}), nlohmann::json::object(),
        nlohmann::json{{"loudness", nullptr}, {"input_level_dbu", nullptr}, {"output_level_dbu", nullptr}}}) {
    nlohmann::json model = valid_model();
    if (!metadata.is_discarded())
      model["metadata"] = metadata;
    auto dsp = nam::get_dsp(model);
    EXPECT_FALSE(dsp->HasLoudness()) << metadata;
    EXPECT_FALSE(dsp->HasInputLevel()) << metadata;
    EXPECT_FALSE(dsp->HasOutputLevel()) << metadata;
    EXPECT_EQ(dsp->GetInputLevel(), 0.0);
    EXPECT_EQ(dsp->GetOutputLevel(), 0.0);
    EXPECT_THROW(dsp->GetLoudness(), std::runtime_error);
  }
}

TEST(LoadingMetadata, OneNullLevelLeavesTheOthersKnown) {
  nlohmann::json model = valid_model();
  model["metadata"] = {{"loudness", -20}, {"input_level_dbu", nullptr}, {"output_level_dbu", 7}};
  auto dsp = nam::get_dsp(model);
  EXPECT_TRUE(dsp->HasLoudness());
  EXPECT_FALSE(dsp->HasInputLevel());
  EXPECT_TRUE(dsp->HasOutputLevel());
  EXPECT_EQ(dsp->GetOutputLevel(), 7.0);
}

class NonNumericMetadata : public ::testing::TestWithParam<const char*> {};

TEST_P(NonNumericMetadata, IsRefusedNamingTheKey) {
  TempDir dir;
  nlohmann::json model = valid_model();
  model["metadata"] = {{GetParam(), "-18 dB"}};
  std::filesystem::path file;
  const std::string message = file_error(dir, model, &file);
  EXPECT_TRUE(contains(message, file.string()));
  EXPECT_TRUE(contains(message, "metadata." + std::string(GetParam())));
  EXPECT_TRUE(contains(message, "expected a number"));
}

INSTANTIATE_TEST_SUITE_P(LoadingMetadata, NonNumericMetadata,
                         ::testing::Values("loudness", "input_level_dbu", "output_level_dbu"));

TEST(LoadingMetadata, SampleRateIsReadOrUnknown) {
  for (const auto& [value, expected] : {std::pair<nlohmann::json, double>{48000, 48000.0},
                                        {44100.0, 44100.0},
                                        {44100.5, 44100.5},
                                        {96000u, 96000.0},
                                        {-1, -1.0}}) {
    nlohmann::json model = valid_model();
    model["sample_rate"] = value;
    EXPECT_EQ(nam::get_dsp(model)->GetExpectedSampleRate(), expected) << value;
  }
  nlohmann::json model = valid_model();
  model.erase("sample_rate");
  // Old trainer files have no sample rate; the original reports -1 ("unknown") for them.
  EXPECT_EQ(nam::get_dsp(model)->GetExpectedSampleRate(), NAM_UNKNOWN_EXPECTED_SAMPLE_RATE);
  EXPECT_EQ(NAM_UNKNOWN_EXPECTED_SAMPLE_RATE, -1.0);
}

TEST(LoadingMetadata, BadSampleRatesAreRefused) {
  TempDir dir;
  for (const nlohmann::json& value : {nlohmann::json("48000"), nlohmann::json(0), nlohmann::json(-48000),
                                      nlohmann::json(1e12), nlohmann::json::array({48000})}) {
    nlohmann::json model = valid_model();
    model["sample_rate"] = value;
    std::filesystem::path file;
    const std::string message = file_error(dir, model, &file);
    EXPECT_TRUE(contains(message, file.string())) << value;
    EXPECT_TRUE(contains(message, "sample_rate")) << value;
  }
}

TEST(LoadingMetadata, GetSampleRateFromNamFile) {
  EXPECT_EQ(nam::get_sample_rate_from_nam_file(nlohmann::json::object()), -1.0);
  EXPECT_EQ(nam::get_sample_rate_from_nam_file({{"sample_rate", 48000}}), 48000.0);
  EXPECT_EQ(nam::get_sample_rate_from_nam_file({{"sample_rate", 22050.5}}), 22050.5);
  EXPECT_EQ(nam::get_sample_rate_from_nam_file({{"sample_rate", nullptr}}), -1.0);
  EXPECT_TRUE(contains(runtime_error_message([] {
                         nam::get_sample_rate_from_nam_file({{"sample_rate", "fast"}});
                       }),
                       "sample_rate"));
}

// The get_dsp overloads ===================================================================================

void expect_contents_of_valid_model(const nam::dspData& data) {
  EXPECT_EQ(data.version, "0.5.4");
  EXPECT_EQ(data.architecture, "Linear");
  EXPECT_EQ(data.config, valid_model()["config"]);
  EXPECT_EQ(data.weights, (std::vector<float>{0.5f, -0.25f, 0.125f, 0.1f}));
  EXPECT_EQ(data.expected_sample_rate, 48000.0);
  EXPECT_EQ(data.metadata["loudness"], -3.0);
}

nlohmann::json valid_model_with_metadata() {
  nlohmann::json model = valid_model();
  model["metadata"] = {{"loudness", -3.0}};
  return model;
}

TEST(GetDsp, FromAPathFillsTheReturnedConfig) {
  TempDir dir;
  nam::dspData data;
  auto dsp = nam::get_dsp(dir.write("m.nam", valid_model_with_metadata()), data);
  ASSERT_NE(dsp, nullptr);
  expect_contents_of_valid_model(data);
  EXPECT_EQ(dsp->GetLoudness(), -3.0);
}

TEST(GetDsp, FromJsonFillsTheReturnedConfig) {
  nam::dspData data;
  auto dsp = nam::get_dsp(valid_model_with_metadata(), data);
  ASSERT_NE(dsp, nullptr);
  expect_contents_of_valid_model(data);
}

TEST(GetDsp, FromDspDataBuildsTheModel) {
  nam::dspData data;
  nam::get_dsp(valid_model_with_metadata(), data);
  auto dsp = nam::get_dsp(data);
  ASSERT_NE(dsp, nullptr);
  EXPECT_EQ(dsp->GetExpectedSampleRate(), 48000.0);
  EXPECT_EQ(dsp->GetLoudness(), -3.0);
  EXPECT_NEAR(impulse_response(*dsp, 1)[0], 0.6, 1e-6);
}

TEST(GetDsp, FromHandMadeDspDataIsChecked) {
  nam::dspData data;
  data.version = "0.5.0";
  data.architecture = "Linear";
  data.config = {{"receptive_field", 2}, {"bias", false}};
  data.weights = {1.0f, 2.0f};
  EXPECT_EQ(data.expected_sample_rate, -1.0); // our dspData starts "unknown" rather than indeterminate
  auto dsp = nam::get_dsp(data);
  EXPECT_EQ(dsp->GetExpectedSampleRate(), -1.0);
  data.version = "2.0.0";
  EXPECT_TRUE(contains(runtime_error_message([&] { nam::get_dsp(data); }), "unsupported version 2.0.0"));
  data.version = "0.5.0";
  data.weights = {1.0f};
  EXPECT_TRUE(contains(runtime_error_message([&] { nam::get_dsp(data); }), "needs 2 weights, got 1"));
}

TEST(GetDsp, ErrorsFromJsonNameTheKeyWithoutAFile) {
  nlohmann::json model = valid_model();
  model["config"]["bias"] = "no";
  const std::string message = json_error(model);
  EXPECT_TRUE(contains(message, "config.bias"));
  EXPECT_FALSE(contains(message, ".nam file ["));
}

TEST(GetDsp, NestedModelErrorsArePrefixedWithTheirPath) {
  nlohmann::json model = valid_model();
  model["weights"][0] = "x";
  const std::string message =
      runtime_error_message([&] { nam::load_nested_model(model, "config.submodels[1].model"); });
  EXPECT_TRUE(contains(message, "config.submodels[1].model: weights[0]"));
  EXPECT_NE(nam::load_nested_model(valid_model(), "config.condition_dsp"), nullptr);
}

TEST(GetDsp, ModelsAreReturnedWithoutReset) {
  auto dsp = nam::get_dsp(valid_model());
  EXPECT_EQ(dsp->GetMaxBufferSize(), 0);
}

TEST(GetDsp, PrewarmOptionAppliesDuringConstructionOnly) {
  for (const bool option : {false, true}) {
    for (const bool caller_default : {false, true}) {
      nam::ScopedPrewarmOnResetDefault scope(caller_default);
      nam::DspLoadOptions options;
      options.prewarm = option;
      const int built = gDoublerBuilt;
      auto dsp = nam::get_dsp(doubler_model(), options);
      EXPECT_EQ(gDoublerBuilt, built + 1);
      EXPECT_EQ(gDoublerPrewarmAtConstruction, option);
      EXPECT_EQ(dsp->GetPrewarmOnReset(), caller_default);
    }
  }
  nam::ScopedPrewarmOnResetDefault scope(false);
  auto dsp = nam::get_dsp(doubler_model());
  EXPECT_FALSE(gDoublerPrewarmAtConstruction);
  EXPECT_FALSE(dsp->GetPrewarmOnReset());
}

TEST(GetDsp, LoadingIsSafeFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> loaded{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j)
        if (nam::get_dsp(valid_model()) != nullptr)
          ++loaded;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(loaded, 80);
}

// Architectures still in progress: their bad configs light up once they register =======================

bool registered(const char* architecture) {
  return nam::ConfigParserRegistry::instance().has(architecture);
}

nlohmann::json lstm_model(const nlohmann::json& config, const int weights) {
  return {{"version", "0.5.4"},
          {"architecture", "LSTM"},
          {"config", config},
          {"weights", std::vector<float>(static_cast<size_t>(weights), 0.01f)},
          {"sample_rate", 48000}};
}

TEST(LoadingLstm, BadConfigsAreRefusedNamingTheKey) {
  if (!registered("LSTM"))
    GTEST_SKIP() << "LSTM is not implemented yet";
  const nlohmann::json good = {{"input_size", 1}, {"hidden_size", 3}, {"num_layers", 1}};
  EXPECT_NE(nam::get_dsp(lstm_model(good, 70)), nullptr); // the example model's shape: 70 weights
  const std::pair<const char*, nlohmann::json> bad[] = {
      {"hidden_size", 1000000000}, {"hidden_size", -1}, {"hidden_size", "3"},      {"num_layers", -1},
      {"num_layers", 1000000000},  {"input_size", 0},   {"input_size", 1000000000}};
  for (const auto& [key, value] : bad) {
    nlohmann::json config = good;
    config[key] = value;
    const std::string message = json_error(lstm_model(config, 70));
    EXPECT_TRUE(contains(message, key)) << key << " = " << value;
  }
  for (const char* key : {"input_size", "hidden_size", "num_layers"}) {
    nlohmann::json config = good;
    config.erase(key);
    EXPECT_TRUE(contains(json_error(lstm_model(config, 70)), key));
  }
}

TEST(LoadingLstm, WrongWeightCountsAreRefused) {
  if (!registered("LSTM"))
    GTEST_SKIP() << "LSTM is not implemented yet";
  const nlohmann::json config = {{"input_size", 1}, {"hidden_size", 3}, {"num_layers", 1}};
  for (const int count : {0, 69})
    EXPECT_TRUE(contains(json_error(lstm_model(config, count)), "weights")) << count;
}

nlohmann::json wavenet_layer_array() {
  return {{"input_size", 1},      {"condition_size", 1}, {"channels", 4},
          {"head_size", 1},       {"kernel_size", 3},    {"dilations", {1, 2}},
          {"activation", "Tanh"}, {"gated", false},      {"head_bias", false}};
}

nlohmann::json wavenet_model(const nlohmann::json& layer_array) {
  return {{"version", "0.5.4"},
          {"architecture", "WaveNet"},
          {"config", {{"layers", {layer_array}}, {"head_scale", 0.02}}},
          {"weights", nlohmann::json::array()},
          {"sample_rate", 48000}};
}

TEST(LoadingWaveNet, AbsurdAndInvalidSizesAreRefusedNamingTheKey) {
  if (!registered("WaveNet"))
    GTEST_SKIP() << "WaveNet is not implemented yet";
  const std::pair<const char*, nlohmann::json> bad[] = {
      {"channels", 1000000000},       {"channels", 0},        {"channels", -4},
      {"dilations", {1, 1073741824}}, {"dilations", {1, -2}}, {"kernel_size", 0},
      {"kernel_size", 1000000000},    {"input_size", 0},      {"head_size", 1000000000}};
  for (const auto& [key, value] : bad) {
    nlohmann::json layer_array = wavenet_layer_array();
    layer_array[key] = value;
    const std::string message = json_error(wavenet_model(layer_array));
    EXPECT_TRUE(contains(message, key)) << key << " = " << value;
  }
}

TEST(LoadingWaveNet, GroupsThatDoNotDivideChannelsAreRefused) {
  if (!registered("WaveNet"))
    GTEST_SKIP() << "WaveNet is not implemented yet";
  for (const char* key : {"groups_input", "groups_input_mixin"}) {
    nlohmann::json layer_array = wavenet_layer_array();
    layer_array[key] = 3; // 4 channels
    const std::string message = json_error(wavenet_model(layer_array));
    EXPECT_TRUE(contains(message, "must be divisible by numGroups (3)")) << key;
  }
}

TEST(LoadingWaveNet, MissingKeysAreNamed) {
  if (!registered("WaveNet"))
    GTEST_SKIP() << "WaveNet is not implemented yet";
  for (const char* key : {"channels", "dilations", "input_size", "condition_size", "activation"}) {
    nlohmann::json layer_array = wavenet_layer_array();
    layer_array.erase(key);
    EXPECT_TRUE(contains(json_error(wavenet_model(layer_array)), key));
  }
  nlohmann::json model = wavenet_model(wavenet_layer_array());
  model["config"]["layers"] = nlohmann::json::array();
  EXPECT_TRUE(contains(json_error(model), "layer"));
}

TEST(LoadingWaveNet, WrongWeightCountIsRefused) {
  if (!registered("WaveNet"))
    GTEST_SKIP() << "WaveNet is not implemented yet";
  nlohmann::json model = wavenet_model(wavenet_layer_array());
  model["weights"] = {0.1, 0.2, 0.3};
  EXPECT_TRUE(contains(json_error(model), "eight")); // "Weight mismatch" or "weights"
}

TEST(LoadingWaveNet, UnknownActivationIsRefused) {
  if (!registered("WaveNet"))
    GTEST_SKIP() << "WaveNet is not implemented yet";
  nlohmann::json layer_array = wavenet_layer_array();
  layer_array["activation"] = "GELU";
  EXPECT_TRUE(contains(json_error(wavenet_model(layer_array)), "Unknown activation type: GELU"));
}

} // namespace
} // namespace nam_test
