#pragma once
/// \file gating_activations.h
/// \brief Two-activation combinators of gated and blended WaveNet layers.
///
/// Both take a (2B x frames) matrix whose top B rows are the signal half and bottom B rows the gate half,
/// and write a (B x frames) result.

#include <stdexcept>

#include <Eigen/Dense>

#include "activations.h"

namespace nam {
namespace gating_activations {

/// \brief Leaves values unchanged.
class IdentityActivation : public activations::ActivationIdentity {};

namespace detail {
inline void check_input_channels(const int input_channels) {
  if (input_channels <= 0)
    throw std::invalid_argument("GatingActivation: number of input channels must be positive");
}
} // namespace detail

/// \brief `out = primary(top) * gate(bottom)`.
class GatingActivation {
public:
  /// \brief `input_act` on the signal half, `gating_act` on the gate half, each of `input_channels` (B)
  /// rows. Throws std::invalid_argument unless B > 0.
  GatingActivation(activations::Activation::Ptr input_act, activations::Activation::Ptr gating_act,
                   const int input_channels = 1) :
      _primary(std::move(input_act)),
      _gate(std::move(gating_act)),
      _channels(input_channels) {
    detail::check_input_channels(input_channels);
  }

  /// \brief `input` holds 2B rows and is overwritten (activations are applied in place); `output` receives
  /// B rows. Both cover `num_frames` columns.
  void apply(Eigen::MatrixXf& input, Eigen::MatrixXf& output, const int num_frames) const {
    auto top = input.block(0, 0, _channels, num_frames);
    auto bottom = input.block(_channels, 0, _channels, num_frames);
    _primary->apply(top);
    _gate->apply(bottom);
    output.leftCols(num_frames) = top.cwiseProduct(bottom);
  }

  /// \brief Rows read: 2B.
  int get_input_channels() const { return 2 * _channels; }
  /// \brief Rows written: B.
  int get_output_channels() const { return _channels; }

private:
  activations::Activation::Ptr _primary;
  activations::Activation::Ptr _gate;
  int _channels;
};

/// \brief `out = alpha * primary(top) + (1 - alpha) * top` with `alpha = blend(bottom)`.
class BlendingActivation {
public:
  /// \brief `input_act` on the signal half, `blend_act` (giving alpha) on the other half, each of
  /// `input_channels` (B) rows. Throws std::invalid_argument unless B > 0.
  BlendingActivation(activations::Activation::Ptr input_act, activations::Activation::Ptr blend_act,
                     const int input_channels = 1) :
      _primary(std::move(input_act)),
      _blend(std::move(blend_act)),
      _channels(input_channels) {
    detail::check_input_channels(input_channels);
  }

  /// \brief As GatingActivation::apply.
  void apply(Eigen::MatrixXf& input, Eigen::MatrixXf& output, const int num_frames) const {
    auto top = input.block(0, 0, _channels, num_frames);
    auto bottom = input.block(_channels, 0, _channels, num_frames);
    auto out = output.leftCols(num_frames);
    out = top; // the pre-activation signal, kept for the (1 - alpha) term
    _primary->apply(top);
    _blend->apply(bottom);
    out.array() = bottom.array() * top.array() + (1.0f - bottom.array()) * out.array();
  }

  /// \brief Rows read: 2B.
  int get_input_channels() const { return 2 * _channels; }
  /// \brief Rows written: B.
  int get_output_channels() const { return _channels; }

private:
  activations::Activation::Ptr _primary;
  activations::Activation::Ptr _blend;
  int _channels;
};

} // namespace gating_activations
} // namespace nam
