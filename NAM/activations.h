#pragma once
/// \file activations.h
/// \brief Pointwise activation functions, how `.nam` files name them, and the process-wide switches
/// (fast tanh, lookup tables) that change which implementation newly built models use.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "json.h"

namespace nam {
namespace activations {

/// \brief Every activation a `.nam` file can name. The values are part of the API: a default
/// `ActivationConfig` has the zero one, Tanh.
enum class ActivationType {
  Tanh = 0,
  Hardtanh = 1,
  Fasttanh = 2,
  ReLU = 3,
  LeakyReLU = 4,
  PReLU = 5,
  Sigmoid = 6,
  SiLU = 7,
  Hardswish = 8,
  LeakyHardtanh = 9,
  Softsign = 10,
};

/// \brief An activation as written in a config: its type and the parameters its type takes.
struct ActivationConfig {
  ActivationType type = ActivationType::Tanh;        ///< which activation
  std::optional<float> negative_slope;               ///< LeakyReLU; PReLU with one slope
  std::optional<std::vector<float>> negative_slopes; ///< PReLU with one slope per channel
  std::optional<float> min_val;                      ///< LeakyHardtanh: lower knee (default -1)
  std::optional<float> max_val;                      ///< LeakyHardtanh: upper knee (default 1)
  std::optional<float> min_slope;                    ///< LeakyHardtanh: slope below min_val (default 0.01)
  std::optional<float> max_slope;                    ///< LeakyHardtanh: slope above max_val (default 0.01)

  /// \brief A parameterless config of the given type.
  static ActivationConfig simple(ActivationType t);
  /// \brief Reads either a name (`"ReLU"`) or an object (`{"type": "LeakyReLU", "negative_slope": 0.2}`).
  /// Throws std::runtime_error for unknown names, other JSON types or ill-typed parameters.
  static ActivationConfig from_json(const nlohmann::json& j);
};

/// \brief `ActivationConfig::from_json` whose errors start with the key path `where`.
ActivationConfig parse_activation_config(const nlohmann::json& j, const std::string& where);

/// \brief Name of an activation type as written in `.nam` files.
const char* activation_type_name(ActivationType type);

// Scalar formulas. All math is single precision, with the original's constants and evaluation order.

/// \brief max(x, 0).
inline float relu(float x) {
  return x > 0.0f ? x : 0.0f;
}
namespace detail {
/// \brief e^x for sigmoid, by Cephes' expf method (x = n ln 2 + r, a degree-7 polynomial in r, times 2^n
/// built in the exponent bits): within 1 ulp of e^x from -86 to 88.72 (checked for every float there), +inf
/// above as expf, NaN for NaN, and e^-86 below (where 1 + e^x is 1 anyway). No branches and no library call,
/// so that loops over it vectorize at every instruction set: std::exp is a call per value, which took half
/// the time of a gated WaveNet layer.
inline float sigmoid_exp(const float x) {
  // Clamped so that 2^(n - 1) below is a normal float; comparisons are false for NaN, which passes through.
  const float clamped = x < -86.0f ? -86.0f : (x > 88.75f ? 88.75f : x);
  // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer, which then sits in the low mantissa bits.
  const float shifted = clamped * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  std::int32_t n_bits;
  std::memcpy(&n_bits, &shifted, sizeof n_bits);
  const std::int32_t half_scale_bits = (n_bits - 0x4B400000 + 126) << 23; // 2^(n - 1), n <= 128
  float half_scale;
  std::memcpy(&half_scale, &half_scale_bits, sizeof half_scale);
  // r = x - n ln 2, with ln 2 in two parts so that n * (high part) is exact.
  const float r = (clamped - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const float value = p * half_scale * 2.0f;
  return x > 88.7228394f ? std::numeric_limits<float>::infinity() : value;
}
} // namespace detail
/// \brief 1 / (1 + exp(-x)), with exp within 1 ulp (detail::sigmoid_exp): the same values on every
/// platform and instruction set, and loops over it vectorize.
inline float sigmoid(float x) {
  return 1.0f / (1.0f + detail::sigmoid_exp(-x));
}
/// \brief x clamped to [-1, 1].
inline float hard_tanh(float x) {
  return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x);
}
/// \brief x on [min_val, max_val]; outside, lines of slope `min_slope` (below) and `max_slope` (above)
/// continuing from the knees.
inline float leaky_hardtanh(float x, float min_val, float max_val, float min_slope, float max_slope) {
  if (x < min_val)
    return (x - min_val) * min_slope + min_val;
  if (x > max_val)
    return (x - max_val) * max_slope + max_val;
  return x;
}
namespace detail {
/// The coefficients of fast tanh's rational function (see fast_tanh), shared by both of its forms.
inline constexpr float kFastTanhA = 2.45550750702956f;
inline constexpr float kFastTanhB = 0.893229853513558f;
inline constexpr float kFastTanhC = 0.821226666969744f;
inline constexpr float kFastTanhD = 2.44506634652299f;
inline constexpr float kFastTanhE = 0.814642734961073f;
} // namespace detail
/// \brief Rational approximation of tanh used by NAM's "fast tanh" mode, in the original's order:
/// x (a + a|x| + (b + c|x|) x^2) / (d + (d + x^2) |x + e x |x||). Not bounded by 1: it tends to about 1.008
/// for large |x|.
inline float fast_tanh(const float x) {
  using namespace detail;
  const float ax = std::fabs(x);
  const float xx = x * x;
  const float num = x * (kFastTanhA + kFastTanhA * ax + (kFastTanhB + kFastTanhC * ax) * xx);
  const float den = kFastTanhD + (kFastTanhD + xx) * std::fabs(x + kFastTanhE * x * ax);
  return num / den;
}
namespace detail {
/// \brief fast_tanh's denominator for u = |x| and uu = u * u, in the original's factored form
/// d + (d + u^2) u (1 + e u) (u (1 + e u) >= 0 is the absolute value it takes): two fused multiply-adds and
/// an addition, which CPUs with separate adders run beside the multiply-adds. Multiplied out, the quartic
/// took four multiply-adds: fast tanh over a block runs 1.10x the values per second this way (AVX-512, AMD
/// Zen 5).
inline float fast_tanh_denominator(const float u, const float uu) {
  return std::fma(uu + kFastTanhD, std::fma(kFastTanhE, uu, u), kFastTanhD);
}
/// \brief fast_tanh's rational function in the form that suits fused multiply-adds: with u = |x| it is
/// x N(u) / D(u), N(u) = a + a u + b u^2 + c u^3 by Horner's rule and D(u) as fast_tanh_denominator forms
/// it. Five fused multiply-adds, two multiplications and an addition where fast_tanh takes 15 separate
/// operations. Within a few ulp of fast_tanh, odd, and NaN where fast_tanh's intermediates overflow alike
/// (|x| above about 4.5e9). For loops compiled with FMA instructions only: elsewhere std::fma is a library
/// call.
inline float fast_tanh_fused(const float x) {
  const float u = std::fabs(x);
  const float numerator =
      std::fma(std::fma(std::fma(kFastTanhC, u, kFastTanhB), u, kFastTanhA), u, kFastTanhA);
  return x * numerator / fast_tanh_denominator(u, u * u);
}
/// \brief scale * fast_tanh(x) for latency-bound loops (the LSTM's recurrence): fast_tanh_fused's numerator
/// by Estrin's scheme, two dependent steps from u instead of Horner's three (its first step beside u^2,
/// which the denominator needs anyway), and the scale applied to x before the division instead of to its
/// quotient. Within a few ulp of scale * fast_tanh(x); exactly half of scaled_fast_tanh_fused(x, 1) at scale
/// 0.5. For loops compiled with FMA instructions only, as fast_tanh_fused.
inline float scaled_fast_tanh_fused(const float x, const float scale) {
  const float u = std::fabs(x);
  const float uu = u * u;
  const float numerator =
      std::fma(std::fma(kFastTanhC, u, kFastTanhB), uu, std::fma(kFastTanhA, u, kFastTanhA));
  return scale * x * numerator / fast_tanh_denominator(u, uu);
}
} // namespace detail
/// \brief Sigmoid through fast_tanh: 0.5 * (fast_tanh(x / 2) + 1).
inline float fast_sigmoid(const float x) {
  return 0.5f * (fast_tanh(0.5f * x) + 1.0f);
}
/// \brief x when x > 0, else negative_slope * x.
inline float leaky_relu(float x, float negative_slope) {
  // The same value as `x > 0 ? x : negative_slope * x` (for a finite slope, up to the sign of a zero), but
  // with the multiply done for every x: compilers may not move a multiply that could raise a floating-point
  // exception under a condition they turn into a vector select, so the select keeps a branch per value,
  // which mispredicts.
  return std::max(x, -0.0f) + negative_slope * std::min(x, 0.0f);
}
/// \brief leaky_relu with the default negative slope 0.01.
inline float leaky_relu(float x) {
  return leaky_relu(x, 0.01f);
}
/// \brief x * sigmoid(x) ("SiLU" in `.nam` files).
inline float swish(float x) {
  return x * sigmoid(x);
}
/// \brief x * clamp(x + 3, 0, 6) / 6.
inline float hardswish(float x) {
  const float shifted = x + 3.0f;
  const float clamped = shifted < 0.0f ? 0.0f : (shifted > 6.0f ? 6.0f : shifted);
  return x * clamped * (1.0f / 6.0f);
}
/// \brief x / (1 + |x|).
inline float softsign(float x) {
  return x / (1.0f + std::fabs(x));
}

/// \brief An activation applied in place to blocks of values.
///
/// Models look activations up when they are built and keep the object, so the process-wide switches
/// below only affect models built after the switch. `apply` never allocates.
class Activation {
public:
  /// \brief Shared: parameterless activations are one object used by every model.
  using Ptr = std::shared_ptr<Activation>;

  Activation() = default;
  virtual ~Activation() = default;

  /// \brief Applies to `size` contiguous values. For per-channel activations (PReLU) value `i` belongs to
  /// channel `i % channels`, i.e. the data is a column-major (channels x frames) matrix.
  virtual void apply(float* data, long size) = 0;
  /// \brief Applies to a (channels x frames) matrix; row = channel.
  virtual void apply(Eigen::MatrixXf& matrix);
  /// \brief Applies to a block of a (channels x frames) matrix, column by column.
  virtual void apply(Eigen::Block<Eigen::MatrixXf> block);
  /// \brief Applies to a block of whole columns of a (channels x frames) matrix, column by column.
  virtual void apply(Eigen::Block<Eigen::MatrixXf, -1, -1, true> block);
  /// \brief Applies to `rows` channels of `cols` contiguous frames each, row `r` starting at
  /// `data + r * row_stride` (the library's internal planar layout).
  virtual void apply_planar(float* data, long rows, long cols, long row_stride);
  /// \brief Where the activation has such a loop (the elementwise ones and LeakyReLU): apply(data, size) and
  /// add each new value to `sum` at the same index, in one pass, and return true (a WaveNet layer's head sum
  /// costs no pass of its own then). Elsewhere returns false and changes nothing.
  virtual bool apply_adding_to(float* /*data*/, long /*size*/, float* /*sum*/) { return false; }

  // Finding an activation by what a model file says.

  /// \brief The activation a config describes: the registered object for parameterless types (so the
  /// switches below apply), a new object for parameterised ones.
  static Ptr get_activation(const ActivationConfig& config);
  /// \brief `get_activation(ActivationConfig::from_json(activation_config))`.
  static Ptr get_activation(const nlohmann::json& activation_config);
  /// \brief The shared object registered under `name` (Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU,
  /// Sigmoid, SiLU, Hardswish, LeakyHardtanh, PReLU, Softsign), or nullptr for another name.
  static Ptr get_activation(const std::string& name);

  // Process-wide switches of what "Tanh" (and, with tables, "Sigmoid" and "SiLU") resolve to. They are not
  // synchronised: call them before loading models, while no other thread loads or processes a model.

  /// \brief Whether fast tanh is enabled (read by LSTM cells while processing).
  static bool using_fast_tanh;
  /// \brief Makes "Tanh" resolve to the fast approximation for models built from now on, and switches LSTM
  /// cells to the fast gate functions immediately.
  static void enable_fast_tanh();
  /// \brief Undoes `enable_fast_tanh()`.
  static void disable_fast_tanh();
  /// \brief Makes `name` ("Tanh", "Sigmoid" or "SiLU") resolve to a linearly interpolated table of `points`
  /// samples over [lower, upper] (clamped outside) for models built from now on. Other names throw
  /// std::runtime_error.
  static void enable_lut(const std::string& name, float lower, float upper, std::size_t points);
  /// \brief Restores the activation that `enable_lut(name, ...)` replaced.
  static void disable_lut(const std::string& name);
};

namespace detail {
/// \brief Replaces each value of a column-major (rows x cols) block, columns `stride` floats apart, by
/// Function(value), with the loop compiled for the best instruction set allowed (kernels/isa.h). Defined in
/// activations.cpp for the functions of the built-in activations below.
template <float (*Function)(float)>
void map_columns(float* data, long rows, long cols, long stride);
/// \brief data[i] = Function(data[i]) and sum[i] += data[i] for i < size, with the loop compiled as
/// map_columns'; defined for the same functions.
template <float (*Function)(float)>
void map_adding(float* data, long size, float* sum);
} // namespace detail

/// \brief Applies one scalar function to every value; the building block of the simple activations.
/// Instantiated for the built-in functions only (detail::map_columns); other activations derive from
/// Activation.
template <float (*Function)(float)>
class ElementwiseActivation : public Activation {
public:
  using Activation::apply;
  /// \brief Replaces each of the `size` values by Function(value).
  void apply(float* data, long size) override { detail::map_columns<Function>(data, size, 1, size); }
  /// \brief Replaces each of the `size` values by Function(value) and adds it to `sum`.
  bool apply_adding_to(float* data, long size, float* sum) override {
    detail::map_adding<Function>(data, size, sum);
    return true;
  }
  /// \brief Replaces every value of the block by Function(value), in one pass over its columns.
  void apply(Eigen::Block<Eigen::MatrixXf> block) override { map_block(block); }
  /// \brief As the other block overload.
  void apply(Eigen::Block<Eigen::MatrixXf, -1, -1, true> block) override { map_block(block); }

private:
  template <class Block>
  void map_block(Block& block) {
    if (block.size() > 0)
      detail::map_columns<Function>(&block.coeffRef(0, 0), block.rows(), block.cols(), block.outerStride());
  }
};

namespace detail {
inline float identity(float x) {
  return x;
}
inline float exact_tanh(float x) {
  return std::tanh(x);
}
} // namespace detail

/// \brief Leaves the values unchanged.
class ActivationIdentity : public Activation {
public:
  using Activation::apply;
  void apply(float*, long) override {}
  void apply_planar(float*, long, long, long) override {}
};
/// \brief tanh (std::tanh), the default activation.
class ActivationTanh : public ElementwiseActivation<&detail::exact_tanh> {};
/// \brief fast_tanh ("Fasttanh", and "Tanh" after enable_fast_tanh()).
class ActivationFastTanh : public ElementwiseActivation<&fast_tanh> {};
/// \brief hard_tanh ("Hardtanh").
class ActivationHardTanh : public ElementwiseActivation<&hard_tanh> {};
/// \brief relu ("ReLU").
class ActivationReLU : public ElementwiseActivation<&relu> {};
/// \brief sigmoid ("Sigmoid").
class ActivationSigmoid : public ElementwiseActivation<&sigmoid> {};
/// \brief swish ("SiLU").
class ActivationSwish : public ElementwiseActivation<&swish> {};
/// \brief hardswish ("Hardswish").
class ActivationHardSwish : public ElementwiseActivation<&hardswish> {};
/// \brief softsign ("Softsign").
class ActivationSoftsign : public ElementwiseActivation<&softsign> {};

/// \brief leaky_relu with one negative slope ("LeakyReLU").
class ActivationLeakyReLU : public Activation {
public:
  ActivationLeakyReLU() = default;
  /// \brief With negative slope `ns` (0.01 by default).
  explicit ActivationLeakyReLU(float ns) : _negative_slope(ns) {}
  using Activation::apply;
  void apply(float* data, long size) override;
  bool apply_adding_to(float* data, long size, float* sum) override;
  /// \brief Slope applied to negative inputs.
  float negative_slope() const { return _negative_slope; }

private:
  float _negative_slope = 0.01f;
};

/// \brief leaky_hardtanh ("LeakyHardtanh"); defaults -1, 1, 0.01, 0.01.
class ActivationLeakyHardTanh : public Activation {
public:
  ActivationLeakyHardTanh() = default;
  /// \brief Knees at `min_val_` and `max_val_`, slopes `min_slope_` below and `max_slope_` above them.
  ActivationLeakyHardTanh(float min_val_, float max_val_, float min_slope_, float max_slope_) :
      _min_val(min_val_),
      _max_val(max_val_),
      _min_slope(min_slope_),
      _max_slope(max_slope_) {}
  using Activation::apply;
  void apply(float* data, long size) override;

private:
  float _min_val = -1.0f;
  float _max_val = 1.0f;
  float _min_slope = 0.01f;
  float _max_slope = 0.01f;
};

/// \brief Leaky ReLU with one negative slope, or one slope per channel.
class ActivationPReLU : public Activation {
public:
  ActivationPReLU() = default;
  /// \brief One slope `ns` for every channel.
  explicit ActivationPReLU(float ns) : _negative_slopes{ns} {}
  /// \brief Slope `ns[c % ns.size()]` for channel c. Throws std::invalid_argument when `ns` is empty.
  explicit ActivationPReLU(std::vector<float> ns);
  using Activation::apply;
  void apply(float* data, long size) override;
  void apply(Eigen::MatrixXf& matrix) override;
  void apply(Eigen::Block<Eigen::MatrixXf> block) override;
  void apply(Eigen::Block<Eigen::MatrixXf, -1, -1, true> block) override;
  void apply_planar(float* data, long rows, long cols, long row_stride) override;
  /// \brief Number of slopes (1, or the channel count it was built for).
  size_t num_slopes() const { return _negative_slopes.size(); }

private:
  template <class Matrix>
  void apply_by_row(Matrix&& matrix);
  std::vector<float> _negative_slopes{0.01f};
};

/// \brief A function tabulated at `size` evenly spaced points on [min_x, max_x] and interpolated linearly;
/// inputs outside the range are clamped.
class FastLUTActivation : public Activation {
public:
  /// \brief Tabulates `f`. Throws std::invalid_argument unless size >= 2 and min_x < max_x.
  FastLUTActivation(float min_x, float max_x, std::size_t size, std::function<float(float)> f);
  using Activation::apply;
  /// \brief The interpolated value at x (clamped to the range); NaN stays NaN.
  float lookup(float x) const;
  void apply(float* data, long size) override;

private:
  float _min_x;
  float _max_x;
  float _inv_step;
  std::vector<float> _table;
};

} // namespace activations
} // namespace nam
