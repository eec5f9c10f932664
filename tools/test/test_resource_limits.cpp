// The memory budget (nam::SetMaxModelBytes) for every architecture: configs whose buffers would exceed it
// are refused from their sizes alone, before any weight is counted or anything is allocated.

#include <string>

#include <gtest/gtest.h>

#include "NAM/get_dsp.h"
#include "NAM/resource_limits.h"
#include "architecture_models.h"
#include "model_builders.h"

namespace {

using nam_test::nam_object;

std::string load_error(const nlohmann::json& model) {
  return nam_test::runtime_error_message([&] { nam::get_dsp(model); });
}

/// Sets the budget for the lifetime of the scope.
class BudgetScope {
public:
  explicit BudgetScope(const size_t bytes) : _saved(nam::GetMaxModelBytes()) { nam::SetMaxModelBytes(bytes); }
  ~BudgetScope() { nam::SetMaxModelBytes(_saved); }

private:
  size_t _saved;
};

struct OverBudget {
  const char* name;
  const char* expected; // start of the message
  nlohmann::json model; // sizes within every per-key limit; no weights, since none are counted
};

class MemoryBudget : public testing::TestWithParam<OverBudget> {};

TEST_P(MemoryBudget, HugeConfigsAreRefusedBeforeTheirWeightsAreCounted) {
  const std::string message = load_error(GetParam().model);
  EXPECT_EQ(message.rfind(GetParam().expected, 0), 0u) << message;
  EXPECT_NE(message.find("more than the limit of 1024 MiB (see nam::SetMaxModelBytes)"), std::string::npos)
      << message;
}

TEST_P(MemoryBudget, ARaisedBudgetLetsTheConfigReachTheWeightCount) {
  const BudgetScope budget(~size_t(0));
  const std::string message = load_error(GetParam().model);
  EXPECT_EQ(message.find("would need about"), std::string::npos) << message;
  EXPECT_NE(message.find("weights"), std::string::npos) << message; // the empty weight list is next
}

nlohmann::json dilations(const int blocks) {
  return nlohmann::json(std::vector<int>(static_cast<size_t>(blocks), 1));
}

INSTANTIATE_TEST_SUITE_P(
    EveryArchitecture, MemoryBudget,
    testing::Values(
        // Taps are shared by the channels, so 16 MiB of taps would ask for 4096 channels of history.
        OverBudget{"Linear", "This Linear model would need about",
                   nam_object("Linear",
                              {{"receptive_field", 1 << 22},
                               {"bias", false},
                               {"in_channels", 4096},
                               {"out_channels", 4096}},
                              {})},
        OverBudget{"LSTM", "This LSTM would need about",
                   nam_object("LSTM", {{"num_layers", 64}, {"input_size", 1}, {"hidden_size", 4096}}, {})},
        OverBudget{"ConvNet", "This ConvNet would need about",
                   nam_object("ConvNet",
                              {{"channels", 4096},
                               {"dilations", dilations(64)},
                               {"batchnorm", false},
                               {"activation", "Tanh"}},
                              {})}),
    [](const testing::TestParamInfo<OverBudget>& info) { return std::string(info.param.name); });

TEST(MemoryBudget, SmallModelsOfEveryArchitectureFitTheDefaultAndNotATinyBudget) {
  const nlohmann::json models[] = {
      nam_object("Linear", {{"receptive_field", 4}, {"bias", false}}, {0.5f, 0.25f, 0.0f, 0.0f}),
      nam_test::lstm_model({1, 1, 4, 1}, 3u),
  };
  for (const nlohmann::json& model : models) {
    EXPECT_NO_THROW(nam::get_dsp(model)) << model["architecture"];
    const BudgetScope tiny(64);
    EXPECT_NE(load_error(model).find("would need about"), std::string::npos) << model["architecture"];
  }
}

} // namespace
