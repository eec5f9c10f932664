// The templated kernels, tested from their registry: every registered Conv1x1 and Conv1D tap kernel, on
// every instruction set this CPU runs (others are reported as skipped), against the generic path and a
// naive convolution; then the pick itself, and whole models with the kernels on and off.
//
// Test names carry the kernel name, e.g. KernelsConv1x1/Conv1x1Kernel.MatchesGenericAndNaive/
// conv1x1_o16i8g2__avx2, so --gtest_filter='*avx512*' selects one instruction set.

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "NAM/activations.h"
#include "NAM/conv1d.h"
#include "NAM/conv1x1.h"
#include "NAM/kernels/registry.h"
#include "allocation_tracking.h"
#include "kernel_reference.h"
#include "reference.h"

namespace {

using nam::kernels::Isa;

constexpr int kMaxFrames = 200;
/// True when the generic path's Eigen products fuse multiply-adds (the build targets FMA): their rounding
/// then depends on the destination's layout.
#if defined(EIGEN_VECTORIZE_FMA)
constexpr bool kEigenFusesMultiplyAdd = true;
#else
constexpr bool kEigenFusesMultiplyAdd = false;
#endif
/// The frame counts every kernel is run with: below, at and above a 64-frame block, and the maximum.
constexpr int kFrameCounts[] = {1, 2, 63, 64, 65, kMaxFrames};

/// Restores the registry's switches (cap, forced generic path, listener) when a test ends.
class RegistryState {
public:
  RegistryState() : _cap(nam::kernels::isa_cap()), _generic(nam::kernels::force_generic()) {}
  ~RegistryState() {
    nam::kernels::set_isa_cap(_cap);
    nam::kernels::set_force_generic(_generic);
    nam::kernels::set_pick_listener({});
  }

private:
  Isa _cap;
  bool _generic;
};

template <class Kernel>
void skip_unless_available(const Kernel& kernel) {
  if (!nam::kernels::isa_available(kernel.isa))
    GTEST_SKIP() << "this CPU has no " << nam::kernels::isa_name(kernel.isa) << " for " << kernel.name;
}

template <class Kernel>
std::string kernel_test_name(const ::testing::TestParamInfo<Kernel>& info) {
  return info.param.name;
}

/// `layer` built while the registry is steered to `isa`, or to the generic path.
template <class Layer, class... Args>
Layer build_layer(const Isa isa, const bool generic, std::vector<float> weights, Args... args) {
  nam::kernels::set_isa_cap(isa);
  nam::kernels::set_force_generic(generic);
  Layer layer(args...);
  nam::kernels::set_force_generic(false);
  auto it = weights.begin();
  layer.set_weights_(it);
  layer.SetMaxBufferSize(kMaxFrames);
  return layer;
}

/// Largest |a - b| over the first `cols` columns, in units of the kernel tolerance of the naive magnitudes.
double disagreement(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b, const nam_tools::NaiveResult& naive,
                    const long first, const long cols) {
  nam_tools::NaiveResult as_reference{b.leftCols(cols).cast<double>(),
                                      naive.magnitude.middleCols(first, cols)};
  return nam_tools::tolerance_ratio(a.leftCols(cols), as_reference, 0, cols);
}

// ------------------------------------------------------------------------------------------------ Conv1x1

class Conv1x1Kernel : public ::testing::TestWithParam<nam::kernels::Conv1x1Kernel> {};

TEST_P(Conv1x1Kernel, MatchesGenericAndNaive) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  for (const bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    const auto weights =
        nam_tools::random_values(nam::Conv1x1::count_weights(kernel.in, kernel.out, bias, kernel.groups), 3);
    auto templated =
        build_layer<nam::Conv1x1>(kernel.isa, false, weights, kernel.in, kernel.out, bias, kernel.groups);
    auto generic =
        build_layer<nam::Conv1x1>(kernel.isa, true, weights, kernel.in, kernel.out, bias, kernel.groups);
    ASSERT_STREQ(templated.kernel_name(), kernel.name);
    ASSERT_STREQ(generic.kernel_name(), nam::kernels::kConv1x1GenericName);
    // Strided input: the top rows of a taller matrix.
    const Eigen::MatrixXf tall = nam_tools::random_matrix(kernel.in + 5, kMaxFrames, 11);
    const auto input = tall.topRows(kernel.in);
    const auto naive = nam_tools::naive_grouped_conv(input, weights, kernel.out, 1, 1, kernel.groups, bias);
    for (const int frames : kFrameCounts) {
      SCOPED_TRACE(std::to_string(frames) + " frames");
      templated.process_(input, frames);
      generic.process_(input, frames);
      EXPECT_LE(nam_tools::tolerance_ratio(templated.GetOutput().leftCols(frames), naive, 0, frames), 1.0);
      EXPECT_LE(nam_tools::tolerance_ratio(generic.GetOutput().leftCols(frames), naive, 0, frames), 1.0);
      EXPECT_LE(disagreement(templated.GetOutput(), generic.GetOutput(), naive, 0, frames), 1.0);
    }
  }
}

TEST_P(Conv1x1Kernel, FusedAddendRoundsAsAddingAfterwards) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  const auto weights =
      nam_tools::random_values(nam::Conv1x1::count_weights(kernel.in, kernel.out, true, kernel.groups), 8);
  const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in, kMaxFrames, 9);
  // A strided addend (the top rows of a taller matrix), as a layer's residual input can be.
  const Eigen::MatrixXf tall_addend = nam_tools::random_matrix(kernel.out + 3, kMaxFrames, 10);
  const auto addend = tall_addend.topRows(kernel.out);
  constexpr float kSentinel = 12345.0f;
  for (const bool generic : {false, true}) {
    SCOPED_TRACE(generic ? "generic" : "templated");
    auto layer =
        build_layer<nam::Conv1x1>(kernel.isa, generic, weights, kernel.in, kernel.out, true, kernel.groups);
    for (const int frames : kFrameCounts) {
      SCOPED_TRACE(std::to_string(frames) + " frames");
      // The product alone, into a destination laid out as the one below (a build that fuses multiply-adds
      // lets Eigen's product round differently for another column stride), then the addend added.
      Eigen::MatrixXf product = Eigen::MatrixXf::Constant(kernel.out + 2, frames + 2, kSentinel);
      layer.process_plus_(input, Eigen::MatrixXf::Zero(kernel.out, frames), product.topRows(kernel.out),
                          frames);
      const Eigen::MatrixXf expected = product.topLeftCorner(kernel.out, frames) + addend.leftCols(frames);
      // Two spare rows per column and two spare columns: none of them may change.
      Eigen::MatrixXf destination = Eigen::MatrixXf::Constant(kernel.out + 2, frames + 2, kSentinel);
      layer.process_plus_(input, addend, destination.topRows(kernel.out), frames);
      EXPECT_TRUE(destination.topLeftCorner(kernel.out, frames) == expected);
      // Contiguous frames in the addend and the destination, as in a layer's own matrices, which some shapes
      // store as whole vectors of frames: the same values (Eigen's product, fused, may round otherwise).
      const Eigen::MatrixXf dense_addend = addend.leftCols(frames);
      Eigen::MatrixXf dense_destination(kernel.out, frames);
      layer.process_plus_(input, dense_addend, dense_destination, frames);
      if (!generic || !kEigenFusesMultiplyAdd) {
        EXPECT_TRUE(dense_destination == expected);
      }
      // A zero addend changes nothing: process_ gives the same product.
      layer.process_(input, frames);
      if (!generic || !kEigenFusesMultiplyAdd) {
        EXPECT_TRUE(layer.GetOutput().leftCols(frames) == product.topLeftCorner(kernel.out, frames));
      }
      EXPECT_TRUE((destination.bottomRows(2).array() == kSentinel).all());
      EXPECT_TRUE((destination.rightCols(2).array() == kSentinel).all());
    }
  }
}

TEST_P(Conv1x1Kernel, WritesOnlyItsOutputColumnsAndRows) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  const long packed_size = nam::kernels::packed_size(kernel.out, kernel.in, kernel.groups);
  const std::vector<float> packed = nam_tools::random_values(packed_size, 5);
  const std::vector<float> bias =
      nam_tools::random_values(nam::kernels::packed_bias_size(kernel.out, kernel.groups), 6);
  const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in + 1, 70, 7);
  constexpr float kSentinel = 12345.0f;
  for (const int frames : kFrameCounts) {
    if (frames > 65)
      continue;
    // Two spare rows per column and two spare columns: none of them may change.
    Eigen::MatrixXf output = Eigen::MatrixXf::Constant(kernel.out + 2, frames + 2, kSentinel);
    kernel.fn(packed.data(), bias.data(), input.data(), input.outerStride(), nullptr, 0, output.data(),
              output.outerStride(), frames);
    EXPECT_TRUE((output.bottomRows(2).array() == kSentinel).all()) << frames << " frames";
    EXPECT_TRUE((output.rightCols(2).array() == kSentinel).all()) << frames << " frames";
    EXPECT_FALSE((output.topLeftCorner(kernel.out, frames).array() == kSentinel).any())
        << frames << " frames";
    // Contiguous frames (input and output strides equal to the channel counts), which narrow shapes
    // process as whole vectors of frames: still no column past `frames`.
    const Eigen::MatrixXf dense_input = input.topRows(kernel.in);
    Eigen::MatrixXf dense_output = Eigen::MatrixXf::Constant(kernel.out, frames + 2, kSentinel);
    kernel.fn(packed.data(), bias.data(), dense_input.data(), kernel.in, nullptr, 0, dense_output.data(),
              kernel.out, frames);
    EXPECT_TRUE((dense_output.rightCols(2).array() == kSentinel).all()) << frames << " frames, contiguous";
    EXPECT_FALSE((dense_output.leftCols(frames).array() == kSentinel).any())
        << frames << " frames, contiguous";
    // The kernel's own rounding whatever the strides, except where contiguous frames fill vectors as they
    // lie.
    if (!nam::kernels::has_frame_vector_copy(kernel.out, kernel.in, kernel.groups)) {
      EXPECT_TRUE(output.topLeftCorner(kernel.out, frames) == dense_output.leftCols(frames))
          << frames << " frames, contiguous against strided";
    }
  }
}

TEST_P(Conv1x1Kernel, ProcessDoesNotAllocate) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  if (!nam_test::AllocationScope::available())
    GTEST_SKIP() << "allocation counting is not available in this build";
  RegistryState restore;
  const auto weights =
      nam_tools::random_values(nam::Conv1x1::count_weights(kernel.in, kernel.out, true, kernel.groups), 3);
  auto layer =
      build_layer<nam::Conv1x1>(kernel.isa, false, weights, kernel.in, kernel.out, true, kernel.groups);
  const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in, kMaxFrames, 1);
  nam_test::AllocationScope scope;
  layer.process_(input, 64);
  EXPECT_EQ(scope.allocations(), 0);
}

INSTANTIATE_TEST_SUITE_P(KernelsConv1x1, Conv1x1Kernel, ::testing::ValuesIn(nam::kernels::conv1x1_kernels()),
                         kernel_test_name<nam::kernels::Conv1x1Kernel>);

// ------------------------------------------------------------------------------------------- Conv1D taps

class Conv1DTapKernel : public ::testing::TestWithParam<nam::kernels::Conv1DTapKernel> {};

/// The streaming tests' convolution: 3 taps, 5 frames apart, with a bias.
constexpr int kStreamingTaps = 3;
constexpr int kStreamingDilation = 5;

/// Random weights for a streaming convolution of the kernel's shape.
std::vector<float> streaming_weights(const nam::kernels::Conv1DTapKernel& kernel, const int seed) {
  return nam_tools::random_values(
      nam::Conv1D::count_weights(kernel.in, kernel.out, kStreamingTaps, true, kernel.groups), seed);
}

/// A streaming convolution of the kernel's shape, on its instruction set or on the generic path.
nam::Conv1D streaming_conv(const nam::kernels::Conv1DTapKernel& kernel, const bool generic,
                           const std::vector<float>& weights) {
  return build_layer<nam::Conv1D>(kernel.isa, generic, weights, kernel.in, kernel.out, kStreamingTaps, 1,
                                  kStreamingDilation, kernel.groups);
}

/// The sum of kFrameCounts: the frames a streaming test runs, block after block.
long streaming_frames() {
  long total = 0;
  for (const int frames : kFrameCounts)
    total += frames;
  return total;
}

TEST_P(Conv1DTapKernel, StreamingMatchesGenericAndNaive) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  const auto weights = streaming_weights(kernel, 13);
  auto templated = streaming_conv(kernel, false, weights);
  auto generic = streaming_conv(kernel, true, weights);
  ASSERT_STREQ(templated.kernel_name(), kernel.name);
  ASSERT_STREQ(generic.kernel_name(), nam::kernels::kConv1DTapGenericName);
  const long total = streaming_frames();
  // The blocks are consecutive pieces of one strided signal, so the history crosses every block boundary.
  const Eigen::MatrixXf tall = nam_tools::random_matrix(kernel.in + 3, total, 17);
  const auto signal = tall.topRows(kernel.in);
  const auto naive = nam_tools::naive_grouped_conv(signal, weights, kernel.out, kStreamingTaps,
                                                   kStreamingDilation, kernel.groups, true);
  long start = 0;
  for (const int frames : kFrameCounts) {
    SCOPED_TRACE(std::to_string(frames) + " frames from frame " + std::to_string(start));
    const auto block = signal.middleCols(start, frames);
    templated.Process(block, frames);
    generic.Process(block, frames);
    EXPECT_LE(nam_tools::tolerance_ratio(templated.GetOutput().leftCols(frames), naive, start, frames), 1.0);
    EXPECT_LE(nam_tools::tolerance_ratio(generic.GetOutput().leftCols(frames), naive, start, frames), 1.0);
    EXPECT_LE(disagreement(templated.GetOutput(), generic.GetOutput(), naive, start, frames), 1.0);
    start += frames;
  }
}

TEST_P(Conv1DTapKernel, StatelessProcessMatchesGeneric) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  const auto weights = nam_tools::random_values(
      nam::Conv1D::count_weights(kernel.in, kernel.out, 2, false, kernel.groups), 19);
  auto templated =
      build_layer<nam::Conv1D>(kernel.isa, false, weights, kernel.in, kernel.out, 2, 0, 4, kernel.groups);
  auto generic =
      build_layer<nam::Conv1D>(kernel.isa, true, weights, kernel.in, kernel.out, 2, 0, 4, kernel.groups);
  const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in, 80, 23);
  const auto naive = nam_tools::naive_grouped_conv(input, weights, kernel.out, 2, 4, kernel.groups, false);
  Eigen::MatrixXf templated_out = Eigen::MatrixXf::Zero(kernel.out, 80);
  Eigen::MatrixXf generic_out = Eigen::MatrixXf::Zero(kernel.out, 80);
  templated.process_(input, templated_out, 4, 65, 10);
  generic.process_(input, generic_out, 4, 65, 10);
  EXPECT_LE(nam_tools::tolerance_ratio(templated_out.middleCols(10, 65), naive, 4, 65), 1.0);
  EXPECT_LE(nam_tools::tolerance_ratio(generic_out.middleCols(10, 65), naive, 4, 65), 1.0);
  EXPECT_TRUE((templated_out.leftCols(10).array() == 0.0f).all());
}

TEST_P(Conv1DTapKernel, SumsEveryTapAndWritesOnlyItsOutput) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  constexpr int kTaps = 3;
  constexpr long kTapColumns = 2; // tap k reads the input from column k * 2 on
  const int out_per_group = kernel.out / kernel.groups;
  const int in_per_group = kernel.in / kernel.groups;
  // Dense grouped taps and a bias, packed as a layer packs them.
  std::vector<Eigen::MatrixXf> taps;
  const long tap_size = nam::kernels::packed_size(kernel.out, kernel.in, kernel.groups);
  std::vector<float> packed(kTaps * tap_size);
  for (int k = 0; k < kTaps; ++k) {
    Eigen::MatrixXf tap = nam_tools::random_matrix(kernel.out, kernel.in, 40 + k);
    for (int o = 0; o < kernel.out; ++o)
      for (int i = 0; i < kernel.in; ++i)
        if (o / out_per_group != i / in_per_group)
          tap(o, i) = 0.0f;
    nam::kernels::pack_block_diagonal(tap.data(), tap.outerStride(), kernel.out, kernel.in, kernel.groups,
                                      packed.data() + k * tap_size);
    taps.push_back(tap);
  }
  const std::vector<float> bias = nam_tools::random_values(kernel.out, 6);
  std::vector<float> packed_bias(nam::kernels::packed_bias_size(kernel.out, kernel.groups));
  nam::kernels::pack_bias(bias.data(), kernel.out, kernel.groups, packed_bias.data());
  constexpr float kSentinel = 12345.0f;
  // Spare rows make the frames strided; without them they are contiguous, which narrow shapes process as
  // whole vectors of frames, with the same roundings (checked bit for bit against the strided run).
  const Eigen::MatrixXf values = nam_tools::random_matrix(kernel.in, 72, 7);
  std::map<int, Eigen::MatrixXf> strided_outputs;
  for (const int spare_rows : {2, 0})
    for (const int frames : kFrameCounts) {
      if (frames > 65)
        continue;
      SCOPED_TRACE(std::to_string(frames) + " frames, " + std::to_string(spare_rows) + " spare rows");
      Eigen::MatrixXf input = Eigen::MatrixXf::Constant(kernel.in + spare_rows, 72, -kSentinel);
      input.topRows(kernel.in) = values;
      Eigen::MatrixXf output = Eigen::MatrixXf::Constant(kernel.out + spare_rows, frames + 2, kSentinel);
      kernel.fn(packed.data(), packed_bias.data(), kTaps, kTapColumns * input.outerStride(), input.data(),
                input.outerStride(), output.data(), output.outerStride(), frames);
      EXPECT_TRUE((output.bottomRows(spare_rows).array() == kSentinel).all());
      EXPECT_TRUE((output.rightCols(2).array() == kSentinel).all());
      if (spare_rows > 0) {
        strided_outputs[frames] = output.topLeftCorner(kernel.out, frames);
      } else {
        EXPECT_TRUE(output.leftCols(frames) == strided_outputs[frames]);
      }
      double worst = 0.0;
      for (int t = 0; t < frames; ++t)
        for (int o = 0; o < kernel.out; ++o) {
          double sum = bias[o];
          double magnitude = std::abs(sum);
          for (int k = 0; k < kTaps; ++k)
            for (int i = 0; i < kernel.in; ++i) {
              const double term = static_cast<double>(taps[k](o, i)) * input(i, t + k * kTapColumns);
              sum += term;
              magnitude += std::abs(term);
            }
          worst = std::max(worst, std::abs(output(o, t) - sum) / (nam_tools::kKernelTolerance * magnitude));
        }
      EXPECT_LE(worst, 1.0);
    }
}

TEST_P(Conv1DTapKernel, ProcessDoesNotAllocate) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  if (!nam_test::AllocationScope::available())
    GTEST_SKIP() << "allocation counting is not available in this build";
  RegistryState restore;
  const auto weights =
      nam_tools::random_values(nam::Conv1D::count_weights(kernel.in, kernel.out, 3, true, kernel.groups), 3);
  auto conv =
      build_layer<nam::Conv1D>(kernel.isa, false, weights, kernel.in, kernel.out, 3, 1, 2, kernel.groups);
  const Eigen::MatrixXf input = nam_tools::random_matrix(kernel.in, kMaxFrames, 1);
  nam_test::AllocationScope scope;
  for (int block = 0; block < 20; ++block) // enough blocks for the history to rewind
    conv.Process(input, 64);
  EXPECT_EQ(scope.allocations(), 0);
}

// A WaveNet layer's z (conv output plus a one-channel input mixin) in the conv's own pass, where its kernel
// has a mixin variant: the same bits as the conv followed by the mixin's kernel with the conv output as its
// addend, streaming over blocks of every size, without allocating. Where there is no variant, the conv says
// it cannot add the mixin.
TEST_P(Conv1DTapKernel, AddsAMixinInItsPassAsTheMixinKernelWould) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  const auto weights = streaming_weights(kernel, 29);
  const auto mixin_weights =
      nam_tools::random_values(nam::Conv1x1::count_weights(1, kernel.out, true, 1), 31);
  auto fused = streaming_conv(kernel, false, weights);
  auto separate = streaming_conv(kernel, false, weights);
  const auto mixin = build_layer<nam::Conv1x1>(kernel.isa, false, mixin_weights, 1, kernel.out, true, 1);
  const bool mixin_has_kernel = std::string(mixin.kernel_name()) != nam::kernels::kConv1x1GenericName;
  ASSERT_EQ(fused.can_add_mixin(mixin), kernel.with_mixin != nullptr && mixin_has_kernel);
  if (!fused.can_add_mixin(mixin))
    return;
  const long total = streaming_frames();
  const Eigen::MatrixXf signal = nam_tools::random_matrix(kernel.in, total, 37);
  const Eigen::MatrixXf condition = nam_tools::random_matrix(1, total, 41);
  Eigen::MatrixXf expected(kernel.out, kMaxFrames), z(kernel.out, kMaxFrames);
  long start = 0;
  for (const int frames : kFrameCounts) {
    SCOPED_TRACE(std::to_string(frames) + " frames from frame " + std::to_string(start));
    separate.Process(signal.middleCols(start, frames), frames);
    mixin.process_plus_(condition.middleCols(start, frames), separate.GetOutput(), expected, frames);
    nam_test::AllocationScope scope;
    fused.process_plus_mixin_(signal.middleCols(start, frames), frames, mixin, condition.data() + start, z);
    EXPECT_EQ(scope.allocations(), 0);
    EXPECT_TRUE(z.leftCols(frames) == expected.leftCols(frames));
    start += frames;
  }
}

INSTANTIATE_TEST_SUITE_P(KernelsConv1DTap, Conv1DTapKernel,
                         ::testing::ValuesIn(nam::kernels::conv1d_tap_kernels()),
                         kernel_test_name<nam::kernels::Conv1DTapKernel>);

// ----------------------------------------------------------------------------------- paired-layer kernels

class PairedLayerKernel : public ::testing::TestWithParam<nam::kernels::PairedLayerKernel> {};

// The one-pass kernel of a plain LeakyReLU or fast-tanh layer against the separate kernels it stands for, run
// as a layer runs them (conv with mixin, the activation loop adding to the head sum, layer1x1 plus the
// residual), on consecutive blocks of one signal: the same bits in the head sum and the output, for several
// tap counts, dilations and slopes (a negative one included), and inputs scaled to reach both sides of the
// knee and fast tanh's saturation.
TEST_P(PairedLayerKernel, GivesTheSeparateKernelsBits) {
  const auto& kernel = GetParam();
  skip_unless_available(kernel);
  RegistryState restore;
  const int c = kernel.channels;
  const int block_frames[] = {2, 16, 18, 64, 62, 30, kMaxFrames};
  long total = 0;
  for (const int frames : block_frames)
    total += frames;
  const Eigen::MatrixXf signal = 3.0f * nam_tools::random_matrix(c, total, 31);
  const Eigen::MatrixXf condition = nam_tools::random_matrix(1, total, 37);
  using nam::kernels::PairedActivation;
  struct Shape {
    int taps, dilation;
    PairedActivation activation;
    float slope; // the LeakyReLU's
  };
  for (const Shape shape :
       {Shape{6, 7, PairedActivation::leaky_relu, 0.01f}, Shape{1, 1, PairedActivation::leaky_relu, 0.2f},
        Shape{3, 2, PairedActivation::leaky_relu, -0.3f}, Shape{15, 1, PairedActivation::leaky_relu, 0.01f},
        Shape{3, 5, PairedActivation::fast_tanh, 0.0f}, Shape{6, 1, PairedActivation::fast_tanh, 0.0f}}) {
    const bool fast_tanh = shape.activation == PairedActivation::fast_tanh;
    SCOPED_TRACE(std::to_string(shape.taps) + " taps, dilation " + std::to_string(shape.dilation) +
                 (fast_tanh ? ", fast tanh" : ", slope " + std::to_string(shape.slope)));
    const auto conv_weights =
        nam_tools::random_values(nam::Conv1D::count_weights(c, c, shape.taps, true, 1), shape.taps);
    const auto mixin_weights = nam_tools::random_values(c, 41);
    const auto layer1x1_weights = nam_tools::random_values(nam::Conv1x1::count_weights(c, c, true, 1), 43);
    const auto conv = [&] {
      return build_layer<nam::Conv1D>(kernel.isa, false, conv_weights, c, c, shape.taps, 1, shape.dilation,
                                      1);
    };
    nam::Conv1D separate_conv = conv(), paired_conv = conv();
    auto mixin = build_layer<nam::Conv1x1>(kernel.isa, false, mixin_weights, 1, c, false, 1);
    auto layer1x1 = build_layer<nam::Conv1x1>(kernel.isa, false, layer1x1_weights, c, c, true, 1);
    ASSERT_TRUE(separate_conv.can_add_mixin(mixin));
    ASSERT_NE(layer1x1.packed_weights(), nullptr);
    nam::activations::ActivationLeakyReLU leaky_relu(shape.slope);
    nam::activations::ActivationFastTanh fast_tanh_activation;
    nam::activations::Activation& activation =
        fast_tanh ? static_cast<nam::activations::Activation&>(fast_tanh_activation) : leaky_relu;
    const nam::kernels::PairedLayerWeights weights{paired_conv.packed_weights(),
                                                   paired_conv.packed_bias(),
                                                   mixin.packed_weights(),
                                                   mixin.packed_bias(),
                                                   layer1x1.packed_weights(),
                                                   layer1x1.packed_bias(),
                                                   shape.slope,
                                                   shape.activation};
    Eigen::MatrixXf z(c, kMaxFrames), separate_out(c, kMaxFrames), paired_out(c, kMaxFrames);
    Eigen::MatrixXf separate_head = Eigen::MatrixXf::Zero(c, kMaxFrames), paired_head = separate_head;
    long start = 0;
    for (const int frames : block_frames) {
      SCOPED_TRACE(std::to_string(frames) + " frames from frame " + std::to_string(start));
      const auto block = signal.middleCols(start, frames);
      const float* block_condition = condition.data() + start;
      separate_conv.process_plus_mixin_(block, frames, mixin, block_condition, z);
      ASSERT_TRUE(activation.apply_adding_to(z.data(), static_cast<long>(c) * frames, separate_head.data()));
      layer1x1.process_plus_(z, block, separate_out, frames);
      const float* oldest_tap = paired_conv.consume_input(block, frames);
      kernel.fn(weights, shape.taps, static_cast<long>(shape.dilation) * c, oldest_tap, block_condition,
                paired_head.data(), paired_out.data(), frames);
      EXPECT_EQ(0, std::memcmp(separate_out.data(), paired_out.data(), sizeof(float) * c * frames));
      EXPECT_EQ(0, std::memcmp(separate_head.data(), paired_head.data(), sizeof(float) * c * frames));
      // The residual alone would pass the output through; the head sum is built from nothing.
      EXPECT_GT((separate_out.leftCols(frames) - block).cwiseAbs().maxCoeff(), 1e-2f);
      EXPECT_GT(separate_head.leftCols(frames).cwiseAbs().maxCoeff(), 1e-2f);
      start += frames;
    }
  }
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PairedLayerKernel); // none without x86 regions
INSTANTIATE_TEST_SUITE_P(KernelsPairedLayer, PairedLayerKernel,
                         ::testing::ValuesIn(nam::kernels::paired_layer_kernels()),
                         kernel_test_name<nam::kernels::PairedLayerKernel>);

// ---------------------------------------------------------------------------------- input-pair layout

// The input-pair kernels add each output's two halves with shuffles that stay within 128-bit lanes
// (input_pairs.h), which is right only if the packing keeps this layout.
TEST(InputPairLayout, PutsEachOutputsHalvesSideBySideForShufflesWithin128BitLanes) {
  for (const int rows : {4, 8, 16}) {
    std::vector<int> lane_uses(2 * rows, 0);
    for (int output = 0; output < rows; ++output)
      for (int parity = 0; parity < 2; ++parity) {
        const int lane = nam::kernels::input_pair_lane(rows, output, parity);
        ASSERT_GE(lane, 0);
        ASSERT_LT(lane, 2 * rows);
        ++lane_uses[lane];
        EXPECT_EQ(lane % 2, parity) << "rows " << rows << ", output " << output;
        EXPECT_EQ(nam::kernels::input_pair_output(rows, lane), output)
            << "rows " << rows << ", lane " << lane;
      }
    EXPECT_EQ(std::count(lane_uses.begin(), lane_uses.end(), 1), 2 * rows) << "rows " << rows;
    // A frame's two vectors of sums (rows lanes each): taking the even lanes of 128-bit lane j, first
    // vector's then second's, gives outputs 4j to 4j + 3 in order.
    for (int l = 0; l < rows; ++l) {
      const int source = (l % 4 < 2 ? 0 : rows) + l / 4 * 4 + l % 2 * 2;
      EXPECT_EQ(nam::kernels::input_pair_output(rows, source), l) << "rows " << rows << ", lane " << l;
    }
  }
}

// Within one frame's two quads (lanes 0-7), the eight vectors of the quad-rotation copy name every weight
// once, each lane's input from the lane's own quad, and the second frame's quads (lanes 8-15) repeat them.
TEST(QuadRotationLayout, NamesEveryWeightOncePerFrameFromTheLanesOwnQuad) {
  std::set<std::pair<int, int>> weights;
  for (int vector = 0; vector < nam::kernels::kQuadRotationVectors; ++vector)
    for (int lane = 0; lane < nam::kernels::kQuadRotationFloats; ++lane) {
      const int output = nam::kernels::quad_rotation_output(vector, lane);
      const int input = nam::kernels::quad_rotation_input(vector, lane);
      ASSERT_GE(output, 0);
      ASSERT_LT(output, 8);
      EXPECT_EQ(input / 4, lane / 4 % 2) << "vector " << vector << ", lane " << lane;
      if (lane < 8)
        weights.insert({output, input});
      else
        EXPECT_EQ(output, nam::kernels::quad_rotation_output(vector, lane - 8));
    }
  EXPECT_EQ(weights.size(), 64u);
}

// ------------------------------------------------------------------------------------------ the registry

template <class Kernel>
void expect_names_spell_shapes(const std::span<const Kernel> table, const std::string& prefix) {
  std::vector<std::string> names;
  for (const Kernel& kernel : table) {
    EXPECT_EQ(kernel.name, prefix + "_o" + std::to_string(kernel.out) + "i" + std::to_string(kernel.in) +
                               "g" + std::to_string(kernel.groups) + "__" +
                               nam::kernels::isa_name(kernel.isa));
    EXPECT_FALSE(kernel.groups > 1 && kernel.groups == kernel.in && kernel.groups == kernel.out)
        << kernel.name << " is depthwise, which keeps its own path";
    names.push_back(kernel.name);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "a shape is listed twice";
}

template <class Kernel>
void expect_every_shape_on_every_isa(const std::span<const Kernel> table) {
  for (const Kernel& kernel : table)
    for (const Isa isa : nam::kernels::kAllIsas) {
      const bool found = std::any_of(table.begin(), table.end(), [&](const Kernel& other) {
        return other.isa == isa && other.out == kernel.out && other.in == kernel.in &&
               other.groups == kernel.groups;
      });
      EXPECT_EQ(found, nam::kernels::isa_compiled(isa))
          << kernel.name << " on " << nam::kernels::isa_name(isa);
    }
}

TEST(KernelRegistry, NamesSpellTheirShapeAndAreUnique) {
  expect_names_spell_shapes(nam::kernels::conv1x1_kernels(), "conv1x1");
  expect_names_spell_shapes(nam::kernels::conv1d_tap_kernels(), "conv1d_tap");
}

TEST(KernelRegistry, EveryShapeIsCompiledForEveryInstructionSet) {
  expect_every_shape_on_every_isa(nam::kernels::conv1x1_kernels());
  expect_every_shape_on_every_isa(nam::kernels::conv1d_tap_kernels());
}

TEST(KernelRegistry, CoversTheSquareGroupedShapes) {
  RegistryState restore;
  for (const int channels : {4, 6, 8, 12, 16})
    for (const int groups : {1, 2, 3, 4, 6, 8})
      if (channels % groups == 0 && groups != channels) {
        EXPECT_NE(nam::kernels::pick_conv1x1_kernel(channels, channels, groups), nullptr)
            << channels << " channels, " << groups << " groups";
        EXPECT_NE(nam::kernels::pick_conv1d_tap_kernel(channels, channels, groups), nullptr)
            << channels << " channels, " << groups << " groups";
      }
}

TEST(KernelRegistry, PicksTheBestInstructionSetAtOrBelowTheCap) {
  RegistryState restore;
  for (const Isa cap : nam::kernels::kAllIsas) {
    nam::kernels::set_isa_cap(cap);
    const Isa expected = static_cast<int>(cap) < static_cast<int>(nam::kernels::detected_isa())
                             ? cap
                             : nam::kernels::detected_isa();
    EXPECT_EQ(nam::kernels::selected_isa(), expected);
    const std::string name = nam::kernels::conv1x1_kernel_name(nam::kernels::pick_conv1x1_kernel(8, 8, 2));
    EXPECT_EQ(name, std::string("conv1x1_o8i8g2__") + nam::kernels::isa_name(expected));
  }
}

// The library reads CPUID and XCR0 itself (kernels/isa.h says why); on Linux, where the compiler's runtime
// check is linked, both must name the same level.
TEST(KernelRegistry, DetectsTheInstructionSetAsTheCompilersCheckDoes) {
#if NAM_KERNELS_X86 && defined(__linux__)
  Isa expected = Isa::baseline;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("fma"))
    expected = Isa::avx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    expected = Isa::avx2;
  EXPECT_EQ(nam::kernels::detail::read_cpu_isa(), expected);
  EXPECT_EQ(nam::kernels::detected_isa(), expected);
#else
  GTEST_SKIP() << "the compiler's runtime check is only compared on x86 Linux";
#endif
}

TEST(KernelRegistry, ParsesInstructionSetNames) {
  for (const Isa isa : nam::kernels::kAllIsas)
    EXPECT_EQ(nam::kernels::parse_isa(nam::kernels::isa_name(isa)), isa);
  EXPECT_FALSE(nam::kernels::parse_isa("sse9").has_value());
  EXPECT_FALSE(nam::kernels::parse_isa("").has_value());
}

TEST(KernelRegistry, ReportsEachPickAndWhyItFellBack) {
  RegistryState restore;
  std::vector<nam::kernels::PickReport> reports;
  nam::kernels::set_pick_listener([&](const nam::kernels::PickReport& report) { reports.push_back(report); });
  nam::Conv1x1 templated(8, 16, true, 2);
  nam::Conv1x1 unknown(7, 5, false);
  nam::Conv1D depthwise(8, 8, 3, true, 1, 8);
  nam::kernels::set_force_generic(true);
  nam::Conv1D forced(8, 8, 3, true, 1);
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_STREQ(reports[0].layer, "conv1x1");
  EXPECT_EQ(reports[0].kernel, std::string(templated.kernel_name()));
  EXPECT_TRUE(reports[0].why_generic.empty() == (templated.kernel_name() != std::string("conv1x1__generic")));
  EXPECT_STREQ(reports[1].kernel, "conv1x1__generic");
  EXPECT_NE(reports[1].why_generic.find("o5i7g1"), std::string::npos) << reports[1].why_generic;
  EXPECT_STREQ(reports[2].layer, "conv1d_tap");
  EXPECT_NE(reports[2].why_generic.find("depthwise"), std::string::npos);
  EXPECT_STREQ(forced.kernel_name(), "conv1d_tap__generic");
  EXPECT_NE(reports[3].why_generic.find("forced"), std::string::npos);
}

TEST(KernelRegistry, UnregisteredShapesRunTheGenericPathCorrectly) {
  RegistryState restore;
  ASSERT_EQ(nam::kernels::pick_conv1x1_kernel(5, 7, 1), nullptr);
  const auto weights = nam_tools::random_values(nam::Conv1x1::count_weights(7, 5, true, 1), 2);
  auto layer = build_layer<nam::Conv1x1>(nam::kernels::isa_cap(), false, weights, 7, 5, true, 1);
  EXPECT_STREQ(layer.kernel_name(), "conv1x1__generic");
  const Eigen::MatrixXf input = nam_tools::random_matrix(7, 64, 3);
  layer.process_(input, 64);
  const auto naive = nam_tools::naive_grouped_conv(input, weights, 5, 1, 1, 1, true);
  EXPECT_LE(nam_tools::tolerance_ratio(layer.GetOutput().leftCols(64), naive, 0, 64), 1.0);
}

// --------------------------------------------------------------------------------------------- models

std::vector<nam_test::ReferenceCase> convolutional_reference_cases() {
  std::vector<nam_test::ReferenceCase> cases;
  try {
    for (const auto& c : nam_test::read_manifest(nam_test::reference_dir()))
      if (!c.fast_tanh && c.architecture != "LSTM" && c.architecture != "Linear")
        cases.push_back(c);
  } catch (const std::exception&) {}
  return cases;
}

TEST(KernelModels, EveryReferenceConvolutionHasATemplatedKernel) {
  const auto cases = convolutional_reference_cases();
  if (cases.empty())
    GTEST_SKIP() << "no reference data";
  RegistryState restore;
  std::set<std::string> fallbacks;
  std::string model;
  // A whole layer's kernel that does not serve the layer leaves it to its convolutions' picks, checked here.
  const auto is_convolution = [](const std::string& layer) {
    return layer == "conv1x1" || layer == "conv1d_tap";
  };
  nam::kernels::set_pick_listener([&](const nam::kernels::PickReport& report) {
    if (is_convolution(report.layer) && !report.why_generic.empty() &&
        report.why_generic.find("depthwise") == std::string::npos)
      fallbacks.insert(model + ": " + report.layer + " " + report.why_generic);
  });
  for (const auto& c : cases) {
    model = c.model;
    nam_test::load_model(nam_test::reference_dir() / c.model, false);
  }
  for (const auto& fallback : fallbacks)
    ADD_FAILURE() << fallback;
}

/// How far templated and generic whole-model outputs may be apart at `isa`, relative to max(1, peak).
/// Unfused kernels add in the generic path's order, so the two differ by float rounding only (below 2e-7
/// relative on every model). Fused kernels (kernels::fuses_multiply_add: avx2 and avx512, and every level
/// of a build targeting FMA, where Eigen fuses as well but splits long sums over two accumulators) round
/// each product differently; trained models amplify that to 1.0e-5 relative (each layer still agrees with
/// the double-precision oracle to 1e-6 of its terms' magnitudes, see the kernel tests above).
double model_equivalence_bound(const Isa isa) {
  return nam::kernels::fuses_multiply_add(isa) ? 3e-5 : 1e-6;
}

class KernelModelEquivalence : public ::testing::TestWithParam<Isa> {};

TEST_P(KernelModelEquivalence, TemplatedMatchesGenericOnEveryReferenceModel) {
  if (!nam::kernels::isa_available(GetParam()))
    GTEST_SKIP() << "this CPU has no " << nam::kernels::isa_name(GetParam());
  const auto cases = convolutional_reference_cases();
  if (cases.empty())
    GTEST_SKIP() << "no reference data";
  RegistryState restore;
  nam::kernels::set_isa_cap(GetParam());
  std::vector<float> input = nam_test::read_f32(nam_test::reference_dir() / "input.f32");
  input.resize(16384); // the sweep and the noise
  for (const auto& c : cases) {
    nam::kernels::set_force_generic(false);
    const auto templated = nam_test::load_model(nam_test::reference_dir() / c.model, false);
    nam::kernels::set_force_generic(true);
    const auto generic = nam_test::load_model(nam_test::reference_dir() / c.model, false);
    const std::vector<float> a = nam_test::render(*templated, input, 64);
    const std::vector<float> b = nam_test::render(*generic, input, 64);
    double peak = 0.0;
    for (const float v : b)
      peak = std::max(peak, static_cast<double>(std::abs(v)));
    EXPECT_LE(nam_test::max_abs_difference(a, b), model_equivalence_bound(GetParam()) * std::max(1.0, peak))
        << c.model;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelModelEquivalence,
                         ::testing::Values(Isa::baseline, Isa::avx2, Isa::avx512),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return std::string(nam::kernels::isa_name(info.param));
                         });

} // namespace
