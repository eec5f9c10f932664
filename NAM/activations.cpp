#include <map>
#include <stdexcept>
#include <utility>

#include "activations.h"
#include "compiler.h"
#include "config_reader.h"
#include "kernels/target_regions.h"

namespace nam {
namespace activations {

bool Activation::using_fast_tanh = false;

namespace {

struct NamedType {
  const char* name;
  ActivationType type;
};

// Spellings accepted in `.nam` files. "LeakyHardTanh" is an alternative spelling the trainer once wrote.
constexpr NamedType kSpellings[] = {
    {"Tanh", ActivationType::Tanh},           {"Hardtanh", ActivationType::Hardtanh},
    {"Fasttanh", ActivationType::Fasttanh},   {"ReLU", ActivationType::ReLU},
    {"LeakyReLU", ActivationType::LeakyReLU}, {"PReLU", ActivationType::PReLU},
    {"Sigmoid", ActivationType::Sigmoid},     {"SiLU", ActivationType::SiLU},
    {"Hardswish", ActivationType::Hardswish}, {"LeakyHardtanh", ActivationType::LeakyHardtanh},
    {"Softsign", ActivationType::Softsign},   {"LeakyHardTanh", ActivationType::LeakyHardtanh},
};

ActivationType type_from_name(const std::string& name, const std::string& where) {
  for (const NamedType& spelling : kSpellings)
    if (name == spelling.name)
      return spelling.type;
  throw_config_error(where,
                     "Unknown activation type: " + name +
                         " (expected one of Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU, PReLU, Sigmoid, "
                         "SiLU, Hardswish, LeakyHardtanh, Softsign)");
}

// The shared objects that parameterless configs resolve to, by name. The switches below replace entries;
// models capture whatever entry is current when they are built.
class SharedActivations {
public:
  static SharedActivations& instance() {
    static SharedActivations shared;
    return shared;
  }
  Activation::Ptr get(const std::string& name) const {
    const auto it = _current.find(name);
    return it == _current.end() ? nullptr : it->second;
  }
  void set(const std::string& name, Activation::Ptr activation) { _current[name] = std::move(activation); }
  Activation::Ptr builtin(const std::string& name) const { return _builtin.at(name); }
  const Activation::Ptr& fast_tanh() const { return _fast_tanh; }

  // Puts back the entry a switch displaced (the built-in one if nothing was displaced). Fast tanh and a
  // Tanh table share the "Tanh" slot, as in the original.
  void remember_displaced(const std::string& name) { _displaced[name] = get(name); }
  void restore_displaced(const std::string& name) {
    const auto saved = _displaced.find(name);
    set(name, saved != _displaced.end() && saved->second ? saved->second : builtin(name));
  }

private:
  SharedActivations() : _fast_tanh(std::make_shared<ActivationFastTanh>()) {
    _builtin = {{"Tanh", std::make_shared<ActivationTanh>()},
                {"Hardtanh", std::make_shared<ActivationHardTanh>()},
                {"Fasttanh", _fast_tanh},
                {"ReLU", std::make_shared<ActivationReLU>()},
                {"LeakyReLU", std::make_shared<ActivationLeakyReLU>(0.01f)},
                {"Sigmoid", std::make_shared<ActivationSigmoid>()},
                {"SiLU", std::make_shared<ActivationSwish>()},
                {"Hardswish", std::make_shared<ActivationHardSwish>()},
                {"LeakyHardtanh", std::make_shared<ActivationLeakyHardTanh>()},
                {"PReLU", std::make_shared<ActivationPReLU>(0.01f)},
                {"Softsign", std::make_shared<ActivationSoftsign>()}};
    _current = _builtin;
  }
  Activation::Ptr _fast_tanh;
  std::map<std::string, Activation::Ptr> _builtin;
  std::map<std::string, Activation::Ptr> _current;
  std::map<std::string, Activation::Ptr> _displaced;
};

float read_parameter(const ConfigReader& object, const char* key, float fallback) {
  const nlohmann::json* value = object.find(key);
  return value == nullptr ? fallback : json_to_float(*value, object.path_of(key));
}

std::function<float(float)> tabulated_function(const std::string& name, const char* verb) {
  if (name == "Tanh")
    return [](float x) { return std::tanh(x); };
  if (name == "Sigmoid")
    return sigmoid;
  if (name == "SiLU")
    return swish;
  throw std::runtime_error(std::string("Tried to ") + verb +
                           " LUT for a function other than Tanh, Sigmoid, or SiLU");
}

} // namespace

const char* activation_type_name(const ActivationType type) {
  for (const NamedType& spelling : kSpellings)
    if (spelling.type == type)
      return spelling.name;
  return "?";
}

ActivationConfig ActivationConfig::simple(ActivationType t) {
  ActivationConfig config;
  config.type = t;
  return config;
}

ActivationConfig ActivationConfig::from_json(const nlohmann::json& j) {
  return parse_activation_config(j, "");
}

ActivationConfig parse_activation_config(const nlohmann::json& j, const std::string& where) {
  if (j.is_string())
    return ActivationConfig::simple(type_from_name(j.get<std::string>(), where));
  if (!j.is_object())
    throw_config_error(where,
                       "Invalid activation config: expected string or object, got " + describe_json_value(j));

  const ConfigReader object(j, where);
  ActivationConfig config =
      ActivationConfig::simple(type_from_name(object.get_string("type"), object.path_of("type")));
  switch (config.type) {
  case ActivationType::LeakyReLU:
    config.negative_slope = read_parameter(object, "negative_slope", 0.01f);
    break;
  case ActivationType::PReLU:
    // A single slope wins over a per-channel list when a file has both.
    if (object.has("negative_slope")) {
      config.negative_slope = read_parameter(object, "negative_slope", 0.01f);
    } else if (object.has("negative_slopes")) {
      const nlohmann::json& slopes = object.require("negative_slopes");
      if (!slopes.is_array() || slopes.empty())
        object.fail("negative_slopes",
                    "expected a non-empty array of numbers, got " + describe_json_value(slopes));
      std::vector<float> values;
      for (size_t i = 0; i < slopes.size(); ++i)
        values.push_back(
            json_to_float(slopes[i], object.path_of("negative_slopes") + "[" + std::to_string(i) + "]"));
      config.negative_slopes = std::move(values);
    }
    break;
  case ActivationType::LeakyHardtanh:
    config.min_val = read_parameter(object, "min_val", -1.0f);
    config.max_val = read_parameter(object, "max_val", 1.0f);
    config.min_slope = read_parameter(object, "min_slope", 0.01f);
    config.max_slope = read_parameter(object, "max_slope", 0.01f);
    break;
  default:
    break; // parameterless: other keys are ignored
  }
  return config;
}

// Activation ===========================================================================================

void Activation::apply(Eigen::MatrixXf& matrix) {
  apply(matrix.data(), static_cast<long>(matrix.size()));
}

void Activation::apply(Eigen::Block<Eigen::MatrixXf> block) {
  for (Eigen::Index c = 0; c < block.cols(); ++c)
    apply(&block.coeffRef(0, c), static_cast<long>(block.rows()));
}

void Activation::apply(Eigen::Block<Eigen::MatrixXf, -1, -1, true> block) {
  for (Eigen::Index c = 0; c < block.cols(); ++c)
    apply(&block.coeffRef(0, c), static_cast<long>(block.rows()));
}

void Activation::apply_planar(float* data, long rows, long cols, long row_stride) {
  for (long r = 0; r < rows; ++r)
    apply(data + r * row_stride, cols);
}

Activation::Ptr Activation::get_activation(const std::string& name) {
  return SharedActivations::instance().get(name);
}

Activation::Ptr Activation::get_activation(const nlohmann::json& activation_config) {
  return get_activation(ActivationConfig::from_json(activation_config));
}

Activation::Ptr Activation::get_activation(const ActivationConfig& config) {
  const SharedActivations& shared = SharedActivations::instance();
  switch (config.type) {
  case ActivationType::LeakyReLU:
    if (config.negative_slope)
      return std::make_shared<ActivationLeakyReLU>(*config.negative_slope);
    return shared.get("LeakyReLU");
  case ActivationType::PReLU:
    if (config.negative_slopes)
      return std::make_shared<ActivationPReLU>(*config.negative_slopes);
    return std::make_shared<ActivationPReLU>(config.negative_slope.value_or(0.01f));
  case ActivationType::LeakyHardtanh:
    return std::make_shared<ActivationLeakyHardTanh>(
        config.min_val.value_or(-1.0f), config.max_val.value_or(1.0f), config.min_slope.value_or(0.01f),
        config.max_slope.value_or(0.01f));
  default:
    return shared.get(activation_type_name(config.type));
  }
}

void Activation::enable_fast_tanh() {
  using_fast_tanh = true;
  SharedActivations& shared = SharedActivations::instance();
  if (shared.get("Tanh") != shared.fast_tanh()) {
    shared.remember_displaced("Tanh");
    shared.set("Tanh", shared.fast_tanh());
  }
}

void Activation::disable_fast_tanh() {
  using_fast_tanh = false;
  SharedActivations& shared = SharedActivations::instance();
  if (shared.get("Tanh") == shared.fast_tanh())
    shared.restore_displaced("Tanh");
}

void Activation::enable_lut(const std::string& name, const float lower, const float upper,
                            const std::size_t points) {
  auto table = std::make_shared<FastLUTActivation>(lower, upper, points, tabulated_function(name, "enable"));
  SharedActivations& shared = SharedActivations::instance();
  shared.remember_displaced(name);
  shared.set(name, std::move(table));
}

void Activation::disable_lut(const std::string& name) {
  tabulated_function(name, "disable"); // rejects other names
  SharedActivations::instance().restore_displaced(name);
}

// Concrete activations =================================================================================

void ActivationLeakyHardTanh::apply(float* data, long size) {
  for (long i = 0; i < size; ++i)
    data[i] = leaky_hardtanh(data[i], _min_val, _max_val, _min_slope, _max_slope);
}

ActivationPReLU::ActivationPReLU(std::vector<float> ns) : _negative_slopes(std::move(ns)) {
  if (_negative_slopes.empty())
    throw std::invalid_argument("PReLU needs at least one negative slope");
}

void ActivationPReLU::apply(float* data, long size) {
  const size_t n = _negative_slopes.size();
  for (long i = 0; i < size; ++i)
    data[i] = leaky_relu(data[i], _negative_slopes[static_cast<size_t>(i) % n]);
}

template <class Matrix>
void ActivationPReLU::apply_by_row(Matrix&& matrix) {
  const size_t n = _negative_slopes.size();
  for (Eigen::Index c = 0; c < matrix.cols(); ++c)
    for (Eigen::Index r = 0; r < matrix.rows(); ++r)
      matrix(r, c) = leaky_relu(matrix(r, c), _negative_slopes[static_cast<size_t>(r) % n]);
}

void ActivationPReLU::apply(Eigen::MatrixXf& matrix) {
  apply_by_row(matrix);
}
void ActivationPReLU::apply(Eigen::Block<Eigen::MatrixXf> block) {
  apply_by_row(block);
}
void ActivationPReLU::apply(Eigen::Block<Eigen::MatrixXf, -1, -1, true> block) {
  apply_by_row(block);
}

void ActivationPReLU::apply_planar(float* data, long rows, long cols, long row_stride) {
  const size_t n = _negative_slopes.size();
  for (long r = 0; r < rows; ++r) {
    const float slope = _negative_slopes[static_cast<size_t>(r) % n];
    float* row = data + r * row_stride;
    for (long i = 0; i < cols; ++i)
      row[i] = leaky_relu(row[i], slope);
  }
}

FastLUTActivation::FastLUTActivation(float min_x, float max_x, std::size_t size,
                                     std::function<float(float)> f) :
    _min_x(min_x),
    _max_x(max_x) {
  if (size < 2 || !(max_x > min_x))
    throw std::invalid_argument("FastLUTActivation needs at least 2 points and min_x < max_x");
  const float step = (max_x - min_x) / static_cast<float>(size - 1);
  _inv_step = 1.0f / step;
  _table.resize(size);
  for (std::size_t i = 0; i < size; ++i)
    _table[i] = f(min_x + static_cast<float>(i) * step);
}

float FastLUTActivation::lookup(float x) const {
  if (std::isnan(x))
    return x;
  const float clamped = x < _min_x ? _min_x : (x > _max_x ? _max_x : x);
  const float position = (clamped - _min_x) * _inv_step;
  const std::size_t below = static_cast<std::size_t>(position);
  if (below >= _table.size() - 1)
    return _table.back();
  const float fraction = position - static_cast<float>(below);
  return _table[below] + (_table[below + 1] - _table[below]) * fraction;
}

void FastLUTActivation::apply(float* data, long size) {
  for (long i = 0; i < size; ++i)
    data[i] = lookup(data[i]);
}

} // namespace activations
} // namespace nam

// ------------------------------------------------------------------- elementwise loops per instruction set

namespace nam {
namespace activations {
namespace {
// `op` maps one float; parameterised activations (LeakyReLU) pass their parameters in it. With kAdd, each
// new value is also added to the value at the same place in `sum` (laid out as `data`).
template <bool kAdd, class Op>
NAM_ALWAYS_INLINE void map_portable(const Op op, float* NAM_RESTRICT data, const long rows, const long cols,
                                    const long stride, float* NAM_RESTRICT sum) {
  for (long c = 0; c < cols; ++c) {
    float* NAM_RESTRICT column = data + c * stride;
    for (long r = 0; r < rows; ++r) {
      const float value = op(column[r]);
      column[r] = value;
      if constexpr (kAdd)
        sum[c * stride + r] += value;
    }
  }
}

template <float (*Function)(float)>
struct Pointwise {
  NAM_ALWAYS_INLINE float operator()(const float x) const { return Function(x); }
};

struct LeakyReluOp {
  float negative_slope;
  NAM_ALWAYS_INLINE float operator()(const float x) const { return leaky_relu(x, negative_slope); }
};

/// The function a level with fused multiply-adds (kernels::fuses_multiply_add) maps for `op`: fast tanh's
/// FMA form (detail::fast_tanh_fused, 1.16x the values per second of the separate operations at AVX-512 and
/// 1.22x at AVX2 here), every other function itself.
template <class Op>
constexpr Op fused_form(const Op op) {
  return op;
}
constexpr Pointwise<&detail::fast_tanh_fused> fused_form(Pointwise<&fast_tanh>) {
  return {};
}
} // namespace

// Each region compiles the same loop for its instruction set; the scalar functions inline into it, and IEEE
// arithmetic without contraction (kernels/target_regions.h) gives the same values at every level. Only fast
// tanh differs, by a few ulp, where levels with FMA take its fused form.
#if NAM_KERNELS_X86
NAM_TARGET_REGION_AVX2
namespace avx2 {
template <bool kAdd, class Op>
void map(const Op op, float* data, const long rows, const long cols, const long stride, float* sum) {
  map_portable<kAdd>(op, data, rows, cols, stride, sum);
}
} // namespace avx2
NAM_TARGET_REGION_END

NAM_TARGET_REGION_AVX512
namespace avx512 {
template <bool kAdd, class Op>
void map(const Op op, float* data, const long rows, const long cols, const long stride, float* sum) {
  map_portable<kAdd>(op, data, rows, cols, stride, sum);
}
} // namespace avx512
NAM_TARGET_REGION_END
#endif

namespace {
/// The loop of map_portable at the selected instruction set.
template <bool kAdd = false, class Op>
void map_at_selected_isa(const Op op, float* data, const long rows, const long cols, const long stride,
                         float* sum = nullptr) {
#if NAM_KERNELS_X86
  switch (kernels::selected_isa()) {
  case kernels::Isa::avx512:
    return avx512::map<kAdd>(fused_form(op), data, rows, cols, stride, sum);
  case kernels::Isa::avx2:
    return avx2::map<kAdd>(fused_form(op), data, rows, cols, stride, sum);
  default:
    break;
  }
#endif
  if constexpr (NAM_KERNELS_FUSE_MULTIPLY_ADD)
    map_portable<kAdd>(fused_form(op), data, rows, cols, stride, sum);
  else
    map_portable<kAdd>(op, data, rows, cols, stride, sum);
}
} // namespace

template <float (*Function)(float)>
void detail::map_columns(float* data, const long rows, const long cols, const long stride) {
  map_at_selected_isa(Pointwise<Function>{}, data, rows, cols, stride);
}

template <float (*Function)(float)>
void detail::map_adding(float* data, const long size, float* sum) {
  map_at_selected_isa<true>(Pointwise<Function>{}, data, size, 1, size, sum);
}

void ActivationLeakyReLU::apply(float* data, long size) {
  map_at_selected_isa(LeakyReluOp{_negative_slope}, data, size, 1, size);
}

bool ActivationLeakyReLU::apply_adding_to(float* data, long size, float* sum) {
  map_at_selected_isa<true>(LeakyReluOp{_negative_slope}, data, size, 1, size, sum);
  return true;
}

#define NAM_INSTANTIATE_ELEMENTWISE_LOOPS(function)                                                          \
  template void detail::map_columns<function>(float*, long, long, long);                                     \
  template void detail::map_adding<function>(float*, long, float*);
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&detail::exact_tanh)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&fast_tanh)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&hard_tanh)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&relu)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&sigmoid)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&swish)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&hardswish)
NAM_INSTANTIATE_ELEMENTWISE_LOOPS(&softsign)
#undef NAM_INSTANTIATE_ELEMENTWISE_LOOPS

} // namespace activations
} // namespace nam
