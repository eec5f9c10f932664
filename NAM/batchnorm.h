#pragma once
/// \file batchnorm.h
/// \brief Batch normalisation in inference form: a per-channel scale and shift.

#include <cmath>

#include <Eigen/Dense>

namespace nam {
namespace convnet {

/// \brief Eval-mode batch norm, `y = (x - mean) / sqrt(var + eps) * gamma + beta`, folded at load time into
/// `y = x * scale + shift`.
///
/// The folding is done in the original's arithmetic: `scale = gamma / sqrt(eps + var)` divides in double
/// precision (the sum `eps + var` is single precision), and `shift = beta - scale * mean` in single
/// precision. Applying it rounds after the multiplication and again after the addition.
class BatchNorm {
public:
  BatchNorm() = default;

  /// \brief Reads `channels` running means, then running variances, weights (gamma), biases (beta), then
  /// eps, advancing `weights`. The caller checks that enough weights are left.
  template <class Iterator>
  BatchNorm(const int channels, Iterator& weights) : _scale(channels), _shift(channels) {
    const Iterator mean = weights;
    const Iterator variance = mean + channels;
    const Iterator gamma = variance + channels;
    const Iterator beta = gamma + channels;
    const float eps = beta[channels];
    for (int c = 0; c < channels; ++c) {
      const float spread = eps + variance[c];
      _scale[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(spread)));
      const float shifted_mean = _scale[c] * mean[c];
      _shift[c] = beta[c] - shifted_mean;
    }
    weights = beta + channels + 1;
  }

  /// \brief Number of weights the constructor reads for `channels` channels.
  static long weight_count(const int channels) { return 4L * channels + 1; }

  /// \brief Applies the scale and shift in place to a (channels x frames) block, row = channel.
  template <class Block>
  void apply(Block&& values) const {
    values.array() = (values.array().colwise() * _scale.array()).colwise() + _shift.array();
  }

  /// \brief Folded multiplier of channel `channel`.
  float scale(const int channel) const { return _scale[channel]; }
  /// \brief Folded offset of channel `channel`, added after the scale.
  float shift(const int channel) const { return _shift[channel]; }

private:
  Eigen::VectorXf _scale;
  Eigen::VectorXf _shift;
};

} // namespace convnet
} // namespace nam
