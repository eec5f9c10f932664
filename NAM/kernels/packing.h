#pragma once
/// \file packing.h
/// \brief How layers hand their weights to the templated kernels: only the diagonal blocks of each grouped
/// matrix, laid out so that every vector the kernel loads is contiguous. The layout depends on the shape
/// alone (never on the instruction set), so a layer packs once whatever kernel it picked.
///
/// Two layouts (some shapes add copies in other forms after them, see has_frame_vector_copy,
/// has_input_pair_copy and has_quad_rotation_copy):
/// - per group (the usual one): one column per input channel i holding i's weights for the outputs of its
///   group, padded with zeros to packed_group_rows() so that a column is a whole number of vectors;
/// - shared vectors, for narrow groups (a power-of-two out/groups smaller than the vector): a vector of
///   shared_group_lanes() outputs spans several groups, and for each step j of the group's inputs it holds
///   every lane's weight for input j of its own group. The kernel pairs it with the inputs rearranged in
///   registers, so narrow groups still fill whole vectors.

#include <cstring>
#include <utility>

namespace nam {
namespace kernels {

constexpr bool is_power_of_two(const int n) {
  return n > 0 && (n & (n - 1)) == 0;
}

/// \brief Floats per packed weight column for groups of `out_per_group` outputs: rounded up to a power of
/// two up to 8, then to a multiple of 8.
constexpr int packed_group_rows(const int out_per_group) {
  if (out_per_group > 8)
    return (out_per_group + 7) / 8 * 8;
  int rows = 1;
  while (rows < out_per_group)
    rows *= 2;
  return rows;
}

/// Widest vector (in floats) a shared layout uses.
inline constexpr int kMaxSharedLanes = 8;

/// \brief Lanes of a shared vector for this shape, or 0 when groups are packed one by one: the widest power
/// of two up to 8 that divides `out` and holds at least two whole groups, provided the inputs those groups
/// read (their "span") are a power of two of at most 16 floats.
constexpr int shared_group_lanes(const int out, const int in, const int groups) {
  const int out_per_group = out / groups;
  const int in_per_group = in / groups;
  int lanes = 1;
  while (lanes * 2 <= kMaxSharedLanes && out % (lanes * 2) == 0)
    lanes *= 2;
  if (!is_power_of_two(out_per_group) || lanes <= out_per_group)
    return 0;
  const int span = lanes / out_per_group * in_per_group;
  return is_power_of_two(span) && span <= 2 * kMaxSharedLanes ? lanes : 0;
}

/// Floats of each repeated column in the frame-vector copy: the widest vector of any instruction set.
inline constexpr int kFrameVectorFloats = 16;

/// \brief True for the shapes whose kernels may run over whole vectors of frames (frame_vectors.h), all with
/// one group: square with 1, 2 or 4 channels, twice as many inputs as outputs for 1 or 2 outputs (a narrow
/// head's rechannel), and one input spread to 2, 4 or 8 outputs. Their packed weights (per tap) carry a
/// second copy after the usual layout, each column repeated to kFrameVectorFloats floats, which that path
/// loads as ready vectors.
constexpr bool has_frame_vector_copy(const int out, const int in, const int groups) {
  const bool square = out == in && (out == 1 || out == 2 || out == 4);
  const bool halving = in == 2 * out && (out == 1 || out == 2);
  const bool spread = in == 1 && (out == 2 || out == 4 || out == 8);
  return groups == 1 && (square || halving || spread);
}

/// \brief True for the shapes whose kernels may take their inputs in pairs (input_pairs.h): one group, 3 to
/// 16 outputs (padded to 4, 8 or 16: half or all of a vector at AVX2 or AVX-512), an even number of inputs,
/// and no frame-vector copy. Their packed weights (per tap) carry a second copy after the usual layout: for
/// each pair of inputs (2p, 2p + 1) 2 * packed_group_rows(out) floats, output o's weight for input 2p + h
/// at input_pair_lane(rows, o, h) (zero for the padding outputs).
constexpr bool has_input_pair_copy(const int out, const int in, const int groups) {
  return groups == 1 && out >= 3 && out <= 16 && in % 2 == 0 && !has_frame_vector_copy(out, in, groups);
}

/// \brief Where the input-pair copy of a shape with `rows` packed rows keeps output `output`'s weight for the
/// input of parity `parity` among a pair's 2 * rows floats. The floats are two halves of `rows`, each in
/// groups of four (the 128-bit lanes of every vector width): group j of the first half holds outputs 4j and
/// 4j + 1, group j of the second half outputs 4j + 2 and 4j + 3, each output's two weights side by side.
/// Summed lane by lane, the halves' products (or two frames' sums) then meet every output's two parts with
/// shuffles that stay within 128-bit lanes (input_pairs.h), which are cheaper than shuffles across them.
constexpr int input_pair_lane(const int rows, const int output, const int parity) {
  return output / 2 % 2 * rows + output / 4 * 4 + output % 2 * 2 + parity;
}

/// \brief The output whose weight input_pair_lane puts at `lane` (either parity).
constexpr int input_pair_output(const int rows, const int lane) {
  const int half = lane / rows;
  const int in_half = lane % rows;
  return in_half / 4 * 4 + half * 2 + in_half % 4 / 2;
}

/// \brief Where a tap's second copy (frame-vector or input-pair) starts within its packed weights: after the
/// usual layout.
constexpr long second_copy_offset(const int out, const int in) {
  return static_cast<long>(packed_group_rows(out)) * in;
}

/// \brief Floats of a tap's input-pair copy (none without one).
constexpr long input_pair_copy_size(const int out, const int in, const int groups) {
  return has_input_pair_copy(out, in, groups) ? static_cast<long>(in / 2) * 2 * packed_group_rows(out) : 0;
}

/// The one shape whose kernels may rotate quads of inputs: this many outputs from as many inputs, one group.
inline constexpr int kQuadRotationChannels = 8;
/// Vectors, and floats in each, of a tap's quad-rotation copy.
inline constexpr int kQuadRotationVectors = 8;
inline constexpr int kQuadRotationFloats = 2 * kQuadRotationChannels;

/// \brief True for the shapes whose kernels may rotate quads of inputs (quad_rotations.h):
/// kQuadRotationChannels outputs from as many inputs in one group. Their packed weights (per tap) carry a
/// third copy after the input-pair copy: kQuadRotationVectors vectors of kQuadRotationFloats, as
/// quad_rotation_output and quad_rotation_input say.
constexpr bool has_quad_rotation_copy(const int out, const int in, const int groups) {
  return groups == 1 && out == kQuadRotationChannels && in == kQuadRotationChannels;
}

/// \brief Where a tap's quad-rotation copy starts within its packed weights: after the input-pair copy.
constexpr long quad_rotation_copy_offset(const int out, const int in) {
  return second_copy_offset(out, in) + input_pair_copy_size(out, in, 1);
}

/// \brief The output whose weight the quad-rotation copy keeps in lane `lane` of vector `vector` (2r + a
/// for rotation r and sum vector a). Lane 4q + s lies in quad q, which holds inputs 4b to 4b + 3 of a frame
/// for b = q % 2: sum vector 0 gives it outputs 4b to 4b + 3, sum vector 1 the other four.
constexpr int quad_rotation_output(const int vector, const int lane) {
  const int quad_half = lane / 4 % 2;
  return 4 * (vector % 2 == 0 ? quad_half : 1 - quad_half) + lane % 4;
}

/// \brief The input whose weight the quad-rotation copy keeps there: input s + r of the lane's quad (mod 4),
/// the value rotation r brings to lane s.
constexpr int quad_rotation_input(const int vector, const int lane) {
  return 4 * (lane / 4 % 2) + (lane % 4 + vector / 2) % 4;
}

/// \brief True when a packed bias of `out` outputs carries the frame-vector copy: when some shape with that
/// output count has the weights' copy (the bias does not depend on the inputs).
constexpr bool has_frame_vector_bias(const int out, const int groups) {
  return has_frame_vector_copy(out, out, groups) || has_frame_vector_copy(out, 1, groups);
}

/// \brief Floats of packed weights for a layer (or one tap) of this shape.
constexpr long packed_size(const int out, const int in, const int groups) {
  return static_cast<long>(packed_group_rows(out / groups)) * in +
         (has_frame_vector_copy(out, in, groups) ? static_cast<long>(in) * kFrameVectorFloats : 0) +
         input_pair_copy_size(out, in, groups) +
         (has_quad_rotation_copy(out, in, groups) ? kQuadRotationVectors * kQuadRotationFloats : 0);
}

/// \brief Packs the diagonal blocks of a grouped (out x in) weight matrix, given column-major with a column
/// every `dense_stride` floats, into the kernels' layout for this shape (see the file). Writes packed_size()
/// floats.
inline void pack_block_diagonal(const float* dense, const long dense_stride, const int out, const int in,
                                const int groups, float* packed) {
  const int out_per_group = out / groups;
  const int in_per_group = in / groups;
  // Weight of output o for input j of o's group.
  const auto weight = [&](const int o, const int j) {
    const int input = (o / out_per_group) * in_per_group + j;
    return dense[input * dense_stride + o];
  };
  if (const int lanes = shared_group_lanes(out, in, groups)) {
    for (int first = 0; first < out; first += lanes)
      for (int j = 0; j < in_per_group; ++j)
        for (int lane = 0; lane < lanes; ++lane)
          *(packed++) = weight(first + lane, j);
    return;
  }
  const int rows = packed_group_rows(out_per_group);
  for (int i = 0; i < in; ++i) {
    const int first_output = (i / in_per_group) * out_per_group;
    for (int r = 0; r < rows; ++r)
      *(packed++) = r < out_per_group ? weight(first_output + r, i % in_per_group) : 0.0f;
  }
  if (has_frame_vector_copy(out, in, groups))
    for (int i = 0; i < in; ++i)
      for (int lane = 0; lane < kFrameVectorFloats; ++lane)
        *(packed++) = weight(lane % out, i);
  if (has_input_pair_copy(out, in, groups))
    for (int pair = 0; pair < in; pair += 2)
      for (int lane = 0; lane < 2 * rows; ++lane) {
        const int output = input_pair_output(rows, lane);
        *(packed++) = output < out ? weight(output, pair + lane % 2) : 0.0f;
      }
  if (has_quad_rotation_copy(out, in, groups))
    for (int vector = 0; vector < kQuadRotationVectors; ++vector)
      for (int lane = 0; lane < kQuadRotationFloats; ++lane)
        *(packed++) = weight(quad_rotation_output(vector, lane), quad_rotation_input(vector, lane));
}

/// \brief Where a narrow WaveNet layer's one-pass kernel (narrow_layer.h) finds its weights: vectors of
/// kFrameVectorFloats floats, lane l holding channel l % channels of a column (repeat_channels), in this
/// order: for each tap k and input channel j, the dilated convolution's weights for input j at tap k; its
/// bias; the input mixin's weights (one condition channel); for each input j, the layer1x1's weights for
/// input j; its bias.
struct NarrowLayerLayout {
  int channels;
  int taps;
  constexpr long tap_column(const int k, const int j) const {
    return (static_cast<long>(k) * channels + j) * kFrameVectorFloats;
  }
  constexpr long conv_bias() const { return tap_column(taps, 0); }
  constexpr long mixin() const { return conv_bias() + kFrameVectorFloats; }
  constexpr long layer1x1_column(const int j) const { return mixin() + (1L + j) * kFrameVectorFloats; }
  constexpr long layer1x1_bias() const { return layer1x1_column(channels); }
  /// Floats in all.
  constexpr long size() const { return layer1x1_bias() + kFrameVectorFloats; }
};

/// \brief Writes `value(c)` to the kFrameVectorFloats floats at `vector`, lane l taking channel l % channels.
template <class ChannelValue>
void repeat_channels(float* vector, const int channels, const ChannelValue& value) {
  for (int lane = 0; lane < kFrameVectorFloats; ++lane)
    vector[lane] = value(lane % channels);
}

/// \brief Floats of a packed bias: each group's biases padded like a packed weight column (and the
/// frame-vector copy, see has_frame_vector_bias).
constexpr long packed_bias_size(const int out, const int groups) {
  return static_cast<long>(packed_group_rows(out / groups)) * groups +
         (has_frame_vector_bias(out, groups) ? kFrameVectorFloats : 0);
}

/// \brief Packs `out` biases for the kernels: each group's out/groups biases, then zeros up to
/// packed_group_rows() (no padding in the shared layout, whose groups are a power of two wide), then the
/// frame-vector copy where the shape has one. Writes packed_bias_size() floats.
inline void pack_bias(const float* bias, const int out, const int groups, float* packed) {
  const int out_per_group = out / groups;
  const int rows = packed_group_rows(out_per_group);
  for (int g = 0; g < groups; ++g)
    for (int r = 0; r < rows; ++r)
      *(packed++) = r < out_per_group ? bias[g * out_per_group + r] : 0.0f;
  if (has_frame_vector_bias(out, groups))
    for (int lane = 0; lane < kFrameVectorFloats; ++lane)
      *(packed++) = bias[lane % out];
}

} // namespace kernels
} // namespace nam
