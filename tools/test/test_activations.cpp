// Activations: each one against a formula written out here from the spec, the fast tanh approximation,
// lookup tables, per-channel PReLU, the JSON forms and their errors, and the process-wide switches.

#include <cmath>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "NAM/activations.h"
#include "allocation_tracking.h"
#include "isa_cap_scope.h"
#include "model_builders.h"

namespace nam_test {
namespace {

using nam::activations::Activation;
using nam::activations::ActivationConfig;
using nam::activations::ActivationType;

const std::vector<float> kInputs = {-1e6f, -100.0f, -20.0f, -6.0f, -3.5f,  -3.0f, -1.0f, -0.58f,
                                    -0.5f, -1e-3f,  0.0f,   1e-3f, 0.5f,   0.58f, 1.0f,  2.9f,
                                    3.0f,  3.5f,    6.0f,   20.0f, 100.0f, 1e6f};

// The formulas of the spec, written the plain way (double precision where it does not matter).
float naive_sigmoid(float x) {
  return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
}

struct NamedFormula {
  const char* name;
  std::function<float(float)> formula;
};

const std::vector<NamedFormula>& simple_formulas() {
  static const std::vector<NamedFormula> formulas = {
      {"Tanh", [](float x) { return std::tanh(x); }},
      {"Hardtanh", [](float x) { return std::min(1.0f, std::max(-1.0f, x)); }},
      {"ReLU", [](float x) { return std::max(0.0f, x); }},
      {"LeakyReLU", [](float x) { return x > 0 ? x : 0.01f * x; }},
      {"PReLU", [](float x) { return x > 0 ? x : 0.01f * x; }},
      {"Sigmoid", naive_sigmoid},
      {"SiLU", [](float x) { return x * naive_sigmoid(x); }},
      {"Hardswish", [](float x) { return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f; }},
      {"LeakyHardtanh",
       [](float x) { return x < -1 ? -1 + 0.01f * (x + 1) : (x > 1 ? 1 + 0.01f * (x - 1) : x); }},
      {"Softsign", [](float x) { return x / (1.0f + std::fabs(x)); }},
  };
  return formulas;
}

std::vector<float> applied(Activation& activation, std::vector<float> values) {
  activation.apply(values.data(), static_cast<long>(values.size()));
  return values;
}

// Relative closeness at float precision, exact for infinities and signed results of the same value.
void expect_close(float actual, float expected, const std::string& what) {
  const float tolerance = 2e-6f * std::max(1.0f, std::fabs(expected));
  EXPECT_NEAR(actual, expected, tolerance) << what;
}

// `specials`, then [-limit, limit] in steps of `step`, then +-smallest, +-smallest * factor, ... below
// `largest`: the values where a function changes, through every binade.
std::vector<float> sweep(std::vector<float> specials, const float limit, const float step,
                         const float smallest, const float largest, const float factor) {
  for (float x = -limit; x <= limit; x += step)
    specials.push_back(x);
  for (float magnitude = smallest; magnitude < largest; magnitude *= factor)
    specials.insert(specials.end(), {magnitude, -magnitude});
  return specials;
}

class SimpleActivation : public ::testing::TestWithParam<NamedFormula> {};

TEST_P(SimpleActivation, MatchesItsFormulaByStringAndObjectForm) {
  const NamedFormula& f = GetParam();
  for (const nlohmann::json& form : {nlohmann::json(f.name), nlohmann::json{{"type", f.name}}}) {
    Activation::Ptr activation = Activation::get_activation(ActivationConfig::from_json(form));
    ASSERT_NE(activation, nullptr) << form;
    const std::vector<float> out = applied(*activation, kInputs);
    for (size_t i = 0; i < kInputs.size(); ++i)
      expect_close(out[i], f.formula(kInputs[i]),
                   std::string(f.name) + "(" + std::to_string(kInputs[i]) + ")");
  }
}

TEST_P(SimpleActivation, ByNameIsTheSharedObject) {
  const Activation::Ptr by_name = Activation::get_activation(std::string(GetParam().name));
  ASSERT_NE(by_name, nullptr);
  EXPECT_EQ(applied(*by_name, kInputs),
            applied(*Activation::get_activation(nlohmann::json(GetParam().name)), kInputs));
}

TEST_P(SimpleActivation, ApplyDoesNotAllocate) {
  if (!AllocationScope::available())
    GTEST_SKIP() << "allocation tracking is not available in this build";
  Activation::Ptr activation = Activation::get_activation(nlohmann::json(GetParam().name));
  std::vector<float> values = kInputs;
  Eigen::MatrixXf matrix = Eigen::MatrixXf::Random(4, 16);
  AllocationScope scope;
  activation->apply(values.data(), static_cast<long>(values.size()));
  activation->apply(matrix);
  activation->apply(matrix.block(1, 2, 2, 5));
  activation->apply_planar(matrix.data(), 2, 4, 8);
  activation->apply_adding_to(values.data(), 8, matrix.data());
  EXPECT_EQ(scope.allocations(), 0);
}

// The one-pass form a WaveNet layer uses for its head sum: where an activation has it (every one here but
// PReLU and LeakyHardtanh, which have no such loop), the values it leaves are apply's and the sum grows by
// exactly them, at every instruction set; where it has not, it changes nothing.
TEST_P(SimpleActivation, ApplyAddingToLeavesApplysValuesAndAddsThem) {
  const std::string name = GetParam().name;
  const bool has_loop = name != "PReLU" && name != "LeakyHardtanh";
  std::vector<float> start_sum;
  for (size_t i = 0; i < kInputs.size(); ++i)
    start_sum.push_back(0.25f * static_cast<float>(i) - 2.0f);
  at_every_available_isa([&](nam::kernels::Isa) {
    Activation::Ptr activation = Activation::get_activation(nlohmann::json(name));
    const std::vector<float> expected = applied(*activation, kInputs);
    std::vector<float> values = kInputs;
    std::vector<float> sum = start_sum;
    const bool added =
        activation->apply_adding_to(values.data(), static_cast<long>(values.size()), sum.data());
    EXPECT_EQ(added, has_loop);
    EXPECT_EQ(values, added ? expected : kInputs);
    for (size_t i = 0; i < sum.size(); ++i)
      EXPECT_EQ(sum[i], added ? start_sum[i] + expected[i] : start_sum[i]) << kInputs[i];
  });
}

INSTANTIATE_TEST_SUITE_P(Activations, SimpleActivation, ::testing::ValuesIn(simple_formulas()),
                         [](const ::testing::TestParamInfo<NamedFormula>& info) {
                           return std::string(info.param.name);
                         });

TEST(Activations, LargeInputsSaturateCleanly) {
  const auto value = [](const char* name, float x) {
    float v = x;
    Activation::get_activation(nlohmann::json(name))->apply(&v, 1);
    return v;
  };
  EXPECT_EQ(value("Tanh", 1e6f), 1.0f);
  EXPECT_EQ(value("Tanh", -1e6f), -1.0f);
  EXPECT_EQ(value("Sigmoid", 1e6f), 1.0f);
  EXPECT_EQ(value("Sigmoid", -1e6f), 0.0f);
  EXPECT_EQ(value("SiLU", -1e6f), 0.0f);
  EXPECT_EQ(value("Hardswish", -1e6f), 0.0f);
  EXPECT_EQ(value("Hardswish", 1e6f), 1e6f);
  EXPECT_EQ(value("Softsign", 1e30f), 1.0f);
  EXPECT_EQ(value("Hardtanh", std::numeric_limits<float>::infinity()), 1.0f);
}

TEST(Activations, NanHandlingFollowsTheFormulas) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto value = [nan](const char* name) {
    float v = nan;
    Activation::get_activation(nlohmann::json(name))->apply(&v, 1);
    return v;
  };
  // ReLU is `x > 0 ? x : 0`, so NaN becomes 0; the others propagate it.
  EXPECT_EQ(value("ReLU"), 0.0f);
  for (const char* name : {"Tanh", "Fasttanh", "Sigmoid", "SiLU", "LeakyReLU", "Hardtanh", "Softsign"})
    EXPECT_TRUE(std::isnan(value(name))) << name;
}

TEST(Activations, ReluOfNegativeZeroIsPositiveZero) {
  float v = -0.0f;
  Activation::get_activation(nlohmann::json("ReLU"))->apply(&v, 1);
  EXPECT_EQ(v, 0.0f);
  EXPECT_FALSE(std::signbit(v));
}

// LeakyReLU is written so that compilers vectorize it at every instruction set; each level's loop must
// still give `x > 0 ? x : slope * x`, with the sign of every zero except 0 times a negative slope.
TEST(Activations, LeakyReluEqualsItsFormulaAtEveryInstructionSet) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> inputs = kInputs;
  inputs.insert(inputs.end(), {-0.0f, 1e-30f, -1e-30f, inf, -inf});
  while (inputs.size() < 67) // whole vectors and a tail at every width
    inputs.push_back(inputs[inputs.size() % kInputs.size()] * 0.37f);
  at_every_available_isa([&](nam::kernels::Isa) {
    for (const float slope : {0.01f, 0.3f, -0.5f}) {
      SCOPED_TRACE("slope " + std::to_string(slope));
      const auto activation =
          Activation::get_activation(nlohmann::json{{"type", "LeakyReLU"}, {"negative_slope", slope}});
      std::vector<float> values = inputs;
      activation->apply(values.data(), static_cast<long>(values.size()));
      for (size_t i = 0; i < inputs.size(); ++i) {
        const float x = inputs[i];
        const float expected = x > 0 ? x : slope * x;
        EXPECT_EQ(values[i], expected) << "x = " << x;
        if (!(x == 0.0f && slope < 0.0f)) {
          EXPECT_EQ(std::signbit(values[i]), std::signbit(expected)) << "x = " << x;
        }
      }
    }
  });
}

// Sigmoid and SiLU compute exp without the library (activations::detail::sigmoid_exp), so that their loops
// vectorize; every level's loop must stay within float precision of the formula in double precision, from
// the saturated ends through every binade where the result changes, and give the scalar function's values.
TEST(Activations, SigmoidAndSiluFollowTheFormulaAtEveryInstructionSet) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> inputs =
      sweep({0.0f, -0.0f, inf, -inf, 1e-30f, -1e-30f, 86.0f, 86.5f, -86.5f, 88.72f, -88.72f, 88.73f, -88.73f,
             89.0f, -89.0f, 103.0f, -103.0f, 1e6f, -1e6f},
            100.0f, 0.0371f, 1e-8f, 1e2f, 1.7f);
  at_every_available_isa([&](nam::kernels::Isa) {
    for (const bool silu : {false, true}) {
      std::vector<float> values = inputs;
      Activation::get_activation(std::string(silu ? "SiLU" : "Sigmoid"))
          ->apply(values.data(), static_cast<long>(values.size()));
      for (size_t i = 0; i < inputs.size(); ++i) {
        const float x = inputs[i];
        const double sigmoid = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
        const double expected = silu ? x * sigmoid : sigmoid;
        const float scalar = silu ? nam::activations::swish(x) : nam::activations::sigmoid(x);
        // Relative to the result (sigmoid nears 0 like e^x), down to the smallest normal float: below it
        // (x < -87.3) float arithmetic, the formula's included, rounds to denormals and then to 0.
        // Infinities and NaN (SiLU of +-inf) must come out as the formula's.
        const auto expect_near = [&](const double reference, const double relative, const char* what) {
          if (std::isnan(reference)) {
            EXPECT_TRUE(std::isnan(values[i])) << what << " at " << x;
          } else if (std::isinf(reference)) {
            EXPECT_EQ(values[i], reference) << what << " at " << x;
          } else {
            // SiLU multiplies the underflowed sigmoid by x.
            const double floor =
                std::numeric_limits<float>::min() * (silu ? std::max(1.0f, std::fabs(x)) : 1.0f);
            EXPECT_NEAR(values[i], reference, std::max(relative * std::fabs(reference), floor))
                << what << " at " << x;
          }
        };
        expect_near(expected, 2e-6, silu ? "SiLU's formula" : "Sigmoid's formula");
        expect_near(scalar, 2.4e-7, "the scalar function");
      }
    }
  });
}

TEST(Activations, ScalarFunctionsMatchTheFormulas) {
  namespace a = nam::activations;
  for (const float x : kInputs) {
    expect_close(a::relu(x), std::max(0.0f, x), "relu");
    expect_close(a::sigmoid(x), naive_sigmoid(x), "sigmoid");
    expect_close(a::swish(x), x * naive_sigmoid(x), "swish");
    expect_close(a::hard_tanh(x), std::min(1.0f, std::max(-1.0f, x)), "hard_tanh");
    expect_close(a::leaky_relu(x), x > 0 ? x : 0.01f * x, "leaky_relu");
    expect_close(a::leaky_relu(x, 0.3f), x > 0 ? x : 0.3f * x, "leaky_relu slope");
    expect_close(a::softsign(x), x / (1 + std::fabs(x)), "softsign");
    expect_close(a::hardswish(x), x * std::min(6.0f, std::max(0.0f, x + 3)) / 6, "hardswish");
    expect_close(a::leaky_hardtanh(x, -2.0f, 0.5f, 0.1f, 0.2f),
                 x < -2 ? -2 + 0.1f * (x + 2) : (x > 0.5f ? 0.5f + 0.2f * (x - 0.5f) : x), "leaky_hardtanh");
  }
}

// Fast tanh ==============================================================================================

// The rational function of the spec, evaluated in double.
double fast_tanh_formula(double x) {
  const double a = 2.45550750702956, b = 0.893229853513558, c = 0.821226666969744, d = 2.44506634652299,
               e = 0.814642734961073;
  const double ax = std::fabs(x), xx = x * x;
  return x * (a + a * ax + (b + c * ax) * xx) / (d + (d + xx) * std::fabs(x + e * x * ax));
}

// The form of fast tanh that loops at `isa` compute: the FMA form where that level fuses multiply-adds.
// (Outside a loop, std::fma is the correctly rounded fused operation too, so the values are the loop's.)
float fast_tanh_at(const nam::kernels::Isa isa, const float x) {
  return nam::kernels::fuses_multiply_add(isa) ? nam::activations::detail::fast_tanh_fused(x)
                                               : nam::activations::fast_tanh(x);
}

TEST(FastTanh, MatchesTheRationalFormula) {
  for (float x = -10.0f; x <= 10.0f; x += 0.01f) {
    EXPECT_NEAR(nam::activations::fast_tanh(x), fast_tanh_formula(x), 2e-6) << x;
    EXPECT_NEAR(nam::activations::detail::fast_tanh_fused(x), fast_tanh_formula(x), 2e-6) << x;
  }
}

// The LSTM's form (scale * fast_tanh with the scale inside the quotient): within float precision of the
// scaled rational function, exactly half of itself at scale 0.5 (the candidate gate's tanh(g) / 2), odd.
TEST(FastTanh, ScaledFormMatchesTheScaledRationalFormula) {
  using nam::activations::detail::scaled_fast_tanh_fused;
  for (const float x : sweep({0.0f, -0.0f}, 30.0f, 0.0173f, 1e-30f, 4e9f, 1.3f)) {
    for (const float scale : {1.0f, 0.5f, 0.731f, -0.2f}) {
      const double expected = scale * fast_tanh_formula(x);
      EXPECT_NEAR(scaled_fast_tanh_fused(x, scale), expected, 2e-6 * std::fabs(expected))
          << x << " " << scale;
    }
    EXPECT_EQ(scaled_fast_tanh_fused(x, 0.5f), 0.5f * scaled_fast_tanh_fused(x, 1.0f)) << x;
    EXPECT_EQ(scaled_fast_tanh_fused(-x, 1.0f), -scaled_fast_tanh_fused(x, 1.0f)) << x;
  }
}

// Each level's loop computes its form of fast tanh exactly, and both forms stay within float precision of
// the rational function (relative to the result, over every binade from 1e-30 to 4e9), odd, 0 at 0, and
// NaN beyond where the intermediates overflow, as the spec says.
TEST(FastTanh, EveryInstructionSetComputesItsFormOfTheFormula) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> inputs =
      sweep({0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 5e9f, -5e9f}, 30.0f, 0.0173f,
            1e-30f, 4e9f, 1.3f);
  at_every_available_isa([&](const nam::kernels::Isa isa) {
    std::vector<float> values = inputs;
    Activation::get_activation(std::string("Fasttanh"))
        ->apply(values.data(), static_cast<long>(values.size()));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const float x = inputs[i];
      const float form = fast_tanh_at(isa, x);
      if (std::isnan(x) || std::isinf(x) || std::fabs(x) > 4.6e9f) {
        EXPECT_TRUE(std::isnan(values[i])) << x;
        EXPECT_TRUE(std::isnan(form)) << x;
        continue;
      }
      EXPECT_EQ(values[i], form) << x;
      EXPECT_EQ(std::signbit(values[i]), std::signbit(x)) << x;
      const double expected = fast_tanh_formula(x);
      EXPECT_NEAR(values[i], expected, 2e-6 * std::fabs(expected)) << x;
    }
  });
}

TEST(FastTanh, StaysWithinItsDocumentedDistanceOfTanh) {
  double worst = 0.0;
  for (float x = -6.0f; x <= 6.0f; x += 1.0f / 1024)
    worst = std::max(worst, std::fabs(double(nam::activations::fast_tanh(x)) - std::tanh(double(x))));
  EXPECT_LT(worst, 4.5e-4);
  EXPECT_GT(worst, 1e-4); // it is an approximation, not tanh
  EXPECT_NEAR(nam::activations::fast_tanh(1.0f), 0.761844f, 2e-6f);
}

TEST(FastTanh, IsOddZeroAtZeroAndTendsToItsLimit) {
  EXPECT_EQ(nam::activations::fast_tanh(0.0f), 0.0f);
  for (const float x : {0.1f, 0.7f, 2.0f, 9.0f, 300.0f})
    EXPECT_EQ(nam::activations::fast_tanh(-x), -nam::activations::fast_tanh(x)) << x;
  // Not bounded by 1: it tends to c / e = 1.00808...
  EXPECT_NEAR(nam::activations::fast_tanh(20.0f), 1.00275f, 1e-5f);
  EXPECT_NEAR(nam::activations::fast_tanh(1e4f), 1.00807f, 1e-5f);
  EXPECT_TRUE(std::isnan(nam::activations::fast_tanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastTanh, FastSigmoidIsDerivedFromIt) {
  for (const float x : kInputs)
    EXPECT_EQ(nam::activations::fast_sigmoid(x), 0.5f * (nam::activations::fast_tanh(0.5f * x) + 1.0f)) << x;
}

TEST(FastTanh, FasttanhActivationIsAlwaysTheApproximation) {
  std::vector<float> expected;
  for (const float x : kInputs)
    expected.push_back(fast_tanh_at(nam::kernels::selected_isa(), x));
  EXPECT_EQ(applied(*Activation::get_activation(nlohmann::json("Fasttanh")), kInputs), expected);
  FastTanhScope fast(true);
  EXPECT_EQ(applied(*Activation::get_activation(nlohmann::json("Fasttanh")), kInputs), expected);
}

TEST(FastTanh, SwitchChangesWhatTanhResolvesTo) {
  FastTanhScope off(false);
  const Activation::Ptr exact = Activation::get_activation(nlohmann::json("Tanh"));
  EXPECT_FALSE(Activation::using_fast_tanh);
  float v = 1.0f;
  exact->apply(&v, 1);
  EXPECT_EQ(v, std::tanh(1.0f));

  Activation::enable_fast_tanh();
  EXPECT_TRUE(Activation::using_fast_tanh);
  const Activation::Ptr fast = Activation::get_activation(nlohmann::json("Tanh"));
  v = 1.0f;
  fast->apply(&v, 1);
  // Compared through the same loop as the explicit "Fasttanh" (which
  // FasttanhActivationIsAlwaysTheApproximation holds to fast_tanh): a build that fuses multiply-adds may
  // round the inline formula differently here.
  float approximation = 1.0f;
  Activation::get_activation(nlohmann::json("Fasttanh"))->apply(&approximation, 1);
  EXPECT_EQ(v, approximation);
  EXPECT_NE(v, std::tanh(1.0f));
  // An object captured before the switch keeps computing exact tanh.
  v = 1.0f;
  exact->apply(&v, 1);
  EXPECT_EQ(v, std::tanh(1.0f));

  Activation::enable_fast_tanh(); // twice: a single disable still restores exact tanh
  Activation::disable_fast_tanh();
  EXPECT_FALSE(Activation::using_fast_tanh);
  v = 1.0f;
  Activation::get_activation(std::string("Tanh"))->apply(&v, 1);
  EXPECT_EQ(v, std::tanh(1.0f));
}

TEST(FastTanh, OnlyTanhIsSwitched) {
  FastTanhScope fast(true);
  for (const NamedFormula& f : simple_formulas()) {
    if (std::string(f.name) == "Tanh")
      continue;
    const std::vector<float> out = applied(*Activation::get_activation(nlohmann::json(f.name)), kInputs);
    for (size_t i = 0; i < kInputs.size(); ++i)
      expect_close(out[i], f.formula(kInputs[i]), f.name);
  }
}

// Lookup tables ===========================================================================================

TEST(LutActivation, FollowsTheTableSemantics) {
  // f(x) = x^2 on [-1, 3] with 5 points: grid -1, 0, 1, 2, 3.
  nam::activations::FastLUTActivation lut(-1.0f, 3.0f, 5, [](float x) { return x * x; });
  EXPECT_EQ(lut.lookup(-1.0f), 1.0f);
  EXPECT_EQ(lut.lookup(0.0f), 0.0f);
  EXPECT_EQ(lut.lookup(2.0f), 4.0f);
  EXPECT_EQ(lut.lookup(3.0f), 9.0f);
  EXPECT_NEAR(lut.lookup(1.5f), 2.5f, 1e-6f); // linear between 1 and 4
  EXPECT_NEAR(lut.lookup(-0.25f), 0.25f, 1e-6f);
  EXPECT_EQ(lut.lookup(-50.0f), 1.0f); // clamped
  EXPECT_EQ(lut.lookup(50.0f), 9.0f);
  std::vector<float> values = {-1.0f, 1.5f, 50.0f};
  lut.apply(values.data(), 3);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_NEAR(values[1], 2.5f, 1e-6f);
  EXPECT_EQ(values[2], 9.0f);
}

TEST(LutActivation, RefusesADegenerateTable) {
  const auto square = [](float x) { return x * x; };
  EXPECT_ANY_THROW(nam::activations::FastLUTActivation(0.0f, 1.0f, 1, square));
  EXPECT_ANY_THROW(nam::activations::FastLUTActivation(1.0f, 1.0f, 16, square));
}

TEST(LutActivation, EnableLutReplacesTheSharedFunctionUntilDisabled) {
  for (const char* name : {"Tanh", "Sigmoid", "SiLU"}) {
    const std::function<float(float)> exact =
        std::string(name) == "Tanh" ? std::function<float(float)>([](float x) { return std::tanh(x); })
        : std::string(name) == "Sigmoid"
            ? std::function<float(float)>(naive_sigmoid)
            : std::function<float(float)>([](float x) { return x * naive_sigmoid(x); });
    Activation::enable_lut(name, -4.0f, 4.0f, 4097);
    const Activation::Ptr table = Activation::get_activation(nlohmann::json(name));
    ASSERT_NE(dynamic_cast<nam::activations::FastLUTActivation*>(table.get()), nullptr) << name;
    for (float x = -3.9f; x < 3.9f; x += 0.037f) {
      float v = x;
      table->apply(&v, 1);
      EXPECT_NEAR(v, exact(x), 1e-5f) << name << "(" << x << ")";
    }
    float outside = 10.0f;
    table->apply(&outside, 1);
    EXPECT_NEAR(outside, exact(4.0f), 1e-6f) << name; // clamped to the table's range
    Activation::disable_lut(name);
    const Activation::Ptr restored = Activation::get_activation(nlohmann::json(name));
    EXPECT_EQ(dynamic_cast<nam::activations::FastLUTActivation*>(restored.get()), nullptr) << name;
    outside = 10.0f;
    restored->apply(&outside, 1);
    EXPECT_NEAR(outside, exact(10.0f), 1e-6f) << name;
  }
}

TEST(LutActivation, OtherFunctionsAreRefused) {
  EXPECT_TRUE(contains(runtime_error_message([] { Activation::enable_lut("ReLU", -1.0f, 1.0f, 64); }),
                       "Tried to enable LUT for a function other than Tanh, Sigmoid, or SiLU"));
  EXPECT_TRUE(contains(runtime_error_message([] { Activation::disable_lut("Softsign"); }),
                       "Tried to disable LUT for a function other than Tanh, Sigmoid, or SiLU"));
}

// Parameterised activations ===============================================================================

float apply_one(const nlohmann::json& form, float x) {
  Activation::get_activation(form)->apply(&x, 1);
  return x;
}

TEST(ParametricActivations, LeakyReluSlope) {
  const nlohmann::json form = {{"type", "LeakyReLU"}, {"negative_slope", 0.2}};
  EXPECT_EQ(ActivationConfig::from_json(form).negative_slope, 0.2f);
  EXPECT_EQ(ActivationConfig::from_json(nlohmann::json{{"type", "LeakyReLU"}}).negative_slope, 0.01f);
  EXPECT_FLOAT_EQ(apply_one(form, -2.0f), -0.4f);
  EXPECT_EQ(apply_one(form, 3.0f), 3.0f);
  EXPECT_FLOAT_EQ(apply_one("LeakyReLU", -2.0f), -0.02f);
}

TEST(ParametricActivations, LeakyHardtanhParametersAndAlias) {
  const nlohmann::json form = {
      {"type", "LeakyHardtanh"}, {"min_val", -2.0}, {"max_val", 0.5}, {"min_slope", 0.1}, {"max_slope", 0.2}};
  const ActivationConfig config = ActivationConfig::from_json(form);
  EXPECT_EQ(config.type, ActivationType::LeakyHardtanh);
  EXPECT_EQ(config.min_val, -2.0f);
  EXPECT_EQ(config.max_slope, 0.2f);
  EXPECT_FLOAT_EQ(apply_one(form, -4.0f), -2.2f);
  EXPECT_FLOAT_EQ(apply_one(form, 1.5f), 0.7f);
  EXPECT_EQ(apply_one(form, 0.25f), 0.25f);
  nlohmann::json alias = form;
  alias["type"] = "LeakyHardTanh";
  EXPECT_FLOAT_EQ(apply_one(alias, -4.0f), -2.2f);
  EXPECT_EQ(ActivationConfig::from_json("LeakyHardTanh").type, ActivationType::LeakyHardtanh);
  // The alias is a JSON spelling only; the shared objects are keyed by the canonical names.
  EXPECT_EQ(Activation::get_activation(std::string("LeakyHardTanh")), nullptr);
  // Defaults: [-1, 1] with slopes 0.01.
  const ActivationConfig defaults = ActivationConfig::from_json("LeakyHardtanh");
  EXPECT_FLOAT_EQ(apply_one("LeakyHardtanh", 3.0f), 1.02f);
  EXPECT_EQ(defaults.min_val.value_or(-1.0f), -1.0f);
  EXPECT_EQ(defaults.max_slope.value_or(0.01f), 0.01f);
}

TEST(ParametricActivations, HardtanhIgnoresTheTrainersBounds) {
  const nlohmann::json form = {{"type", "Hardtanh"}, {"min_val", -3.0}, {"max_val", 3.0}};
  EXPECT_EQ(apply_one(form, 2.0f), 1.0f);
  EXPECT_EQ(apply_one(form, -2.0f), -1.0f);
}

TEST(ParametricActivations, PReluSingleSlope) {
  EXPECT_FLOAT_EQ(apply_one({{"type", "PReLU"}, {"negative_slope", 0.25}}, -4.0f), -1.0f);
  EXPECT_FLOAT_EQ(apply_one("PReLU", -4.0f), -0.04f);
  // A single slope wins when a file has both forms.
  const nlohmann::json both = {{"type", "PReLU"}, {"negative_slope", 0.5}, {"negative_slopes", {0.1, 0.2}}};
  const ActivationConfig config = ActivationConfig::from_json(both);
  EXPECT_EQ(config.negative_slope, 0.5f);
  EXPECT_FALSE(config.negative_slopes.has_value());
  EXPECT_FLOAT_EQ(apply_one(both, -2.0f), -1.0f);
}

TEST(ParametricActivations, PReluPerChannelSlopes) {
  const nlohmann::json form = {{"type", "PReLU"}, {"negative_slopes", {0.1, 0.2, 0.3}}};
  const Activation::Ptr prelu = Activation::get_activation(form);
  const float slopes[] = {0.1f, 0.2f, 0.3f};

  // (channels x frames) matrix, row = channel.
  Eigen::MatrixXf matrix(3, 4);
  matrix << -1, 2, -3, -4, -5, -6, 7, -8, -9, -10, -11, 12;
  const Eigen::MatrixXf original = matrix;
  prelu->apply(matrix);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const float x = original(r, c);
      EXPECT_FLOAT_EQ(matrix(r, c), x > 0 ? x : slopes[r] * x) << r << "," << c;
    }

  // Flat column-major data: element p belongs to channel p % 3.
  std::vector<float> flat(original.data(), original.data() + original.size());
  prelu->apply(flat.data(), static_cast<long>(flat.size()));
  for (int p = 0; p < 12; ++p)
    EXPECT_FLOAT_EQ(flat[p], matrix.data()[p]);

  // Planar rows with a stride: row r uses slope r.
  std::vector<float> planar(3 * 8, -1.0f);
  prelu->apply_planar(planar.data(), 3, 5, 8);
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 8; ++i)
      EXPECT_FLOAT_EQ(planar[r * 8 + i], i < 5 ? -slopes[r] : -1.0f) << r << "," << i;

  // A block of a larger matrix: rows of the block are channels.
  Eigen::MatrixXf big = Eigen::MatrixXf::Constant(5, 3, -1.0f);
  prelu->apply(big.block(1, 0, 3, 3));
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(big(0, c), -1.0f);
    EXPECT_EQ(big(4, c), -1.0f);
    for (int r = 0; r < 3; ++r)
      EXPECT_FLOAT_EQ(big(r + 1, c), -slopes[r]);
  }
}

TEST(ParametricActivations, ParametersDoNotChangeSharedObjects) {
  Activation::get_activation(nlohmann::json{{"type", "LeakyReLU"}, {"negative_slope", 0.5}});
  EXPECT_FLOAT_EQ(apply_one("LeakyReLU", -1.0f), -0.01f);
}

TEST(ParametricActivations, BlocksOfAMatrixOnlyTouchTheBlock) {
  Eigen::MatrixXf matrix = Eigen::MatrixXf::Constant(4, 4, -2.0f);
  Activation::get_activation(nlohmann::json("ReLU"))->apply(matrix.block(1, 1, 2, 2));
  EXPECT_EQ(matrix.sum(), -2.0f * 12);
  EXPECT_EQ(matrix(1, 1), 0.0f);
  EXPECT_EQ(matrix(0, 0), -2.0f);
}

// Parsing =================================================================================================

TEST(ActivationParsing, EveryNameMapsToItsType) {
  const std::pair<const char*, ActivationType> names[] = {
      {"Tanh", ActivationType::Tanh},           {"Hardtanh", ActivationType::Hardtanh},
      {"Fasttanh", ActivationType::Fasttanh},   {"ReLU", ActivationType::ReLU},
      {"LeakyReLU", ActivationType::LeakyReLU}, {"PReLU", ActivationType::PReLU},
      {"Sigmoid", ActivationType::Sigmoid},     {"SiLU", ActivationType::SiLU},
      {"Hardswish", ActivationType::Hardswish}, {"LeakyHardtanh", ActivationType::LeakyHardtanh},
      {"Softsign", ActivationType::Softsign}};
  for (const auto& [name, type] : names) {
    EXPECT_EQ(ActivationConfig::from_json(name).type, type) << name;
    EXPECT_EQ(ActivationConfig::from_json(nlohmann::json{{"type", name}}).type, type) << name;
    EXPECT_STREQ(nam::activations::activation_type_name(type), name);
    EXPECT_NE(Activation::get_activation(std::string(name)), nullptr) << name;
  }
  EXPECT_EQ(ActivationConfig().type, ActivationType::Tanh);
  EXPECT_EQ(ActivationConfig::simple(ActivationType::SiLU).type, ActivationType::SiLU);
}

class UnknownActivation : public ::testing::TestWithParam<const char*> {};

TEST_P(UnknownActivation, IsRefusedByNameInBothForms) {
  const std::string expected = "Unknown activation type: " + std::string(GetParam());
  EXPECT_TRUE(contains(runtime_error_message([] { ActivationConfig::from_json(GetParam()); }), expected));
  EXPECT_TRUE(contains(runtime_error_message([] {
                         ActivationConfig::from_json(nlohmann::json{{"type", GetParam()}});
                       }),
                       expected));
  EXPECT_EQ(Activation::get_activation(std::string(GetParam())), nullptr);
}

INSTANTIATE_TEST_SUITE_P(ActivationParsing, UnknownActivation,
                         ::testing::Values("Swish", "HardSwish", "Hard_swish", "GELU", "ELU", "Identity",
                                           "linear", "tanh", "relu", "Softsigmoid", ""));

TEST(ActivationParsing, OtherJsonTypesAreRefused) {
  for (const nlohmann::json& value :
       {nlohmann::json(1), nlohmann::json(true), nlohmann::json(nullptr), nlohmann::json::array({"Tanh"})}) {
    const std::string message = runtime_error_message([&] { ActivationConfig::from_json(value); });
    EXPECT_TRUE(contains(message, "Invalid activation config: expected string or object")) << value;
  }
}

TEST(ActivationParsing, ObjectErrorsNameTheKey) {
  const std::pair<nlohmann::json, const char*> cases[] = {
      {nlohmann::json::object(), "type"},
      {{{"negative_slope", 0.1}}, "type"},
      {{{"type", 3}}, "type"},
      {{{"type", "LeakyReLU"}, {"negative_slope", "x"}}, "negative_slope"},
      {{{"type", "PReLU"}, {"negative_slope", true}}, "negative_slope"},
      {{{"type", "PReLU"}, {"negative_slopes", nlohmann::json::array()}}, "negative_slopes"},
      {{{"type", "PReLU"}, {"negative_slopes", 0.1}}, "negative_slopes"},
      {{{"type", "PReLU"}, {"negative_slopes", {0.1, "y"}}}, "negative_slopes[1]"},
      {{{"type", "LeakyHardtanh"}, {"max_val", "1"}}, "max_val"},
      {{{"type", "LeakyReLU"}, {"negative_slope", 1e300}}, "negative_slope"}};
  for (const auto& [value, key] : cases) {
    const std::string message =
        runtime_error_message([&] { nam::activations::parse_activation_config(value, "config.activation"); });
    EXPECT_TRUE(contains(message, std::string("config.activation.") + key)) << value;
  }
  EXPECT_TRUE(contains(runtime_error_message([] {
                         nam::activations::parse_activation_config("Mish", "config.layers[2].activation");
                       }),
                       "config.layers[2].activation: Unknown activation type: Mish"));
}

TEST(ActivationParsing, ExtraKeysOfSimpleTypesAreIgnored) {
  EXPECT_EQ(apply_one({{"type", "ReLU"}, {"inplace", true}, {"negative_slope", "unused"}}, -1.0f), 0.0f);
}

} // namespace
} // namespace nam_test
