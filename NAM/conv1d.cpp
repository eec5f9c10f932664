// Both convolution layers live in this translation unit: plugin projects compile conv1d.cpp by name, and
// Conv1x1 is declared in dsp.h (through conv1x1.h) as in the original library.
#include <stdexcept>
#include <string>

#include "conv1d.h"
#include "conv1x1.h"

// The templated kernels and their registry are compiled here, after every header (see the file).
#include "kernels/registry.inc"

namespace nam {

void check_conv_groups(const long in_channels, const long out_channels, const long groups) {
  if (in_channels <= 0 || out_channels <= 0)
    throw std::runtime_error("Convolution channel counts must be positive, got in_channels " +
                             std::to_string(in_channels) + " and out_channels " +
                             std::to_string(out_channels));
  if (groups <= 0)
    throw std::runtime_error("Convolution groups must be positive, got " + std::to_string(groups));
  if (in_channels % groups != 0)
    throw std::runtime_error("in_channels (" + std::to_string(in_channels) +
                             ") must be divisible by numGroups (" + std::to_string(groups) + ")");
  if (out_channels % groups != 0)
    throw std::runtime_error("out_channels (" + std::to_string(out_channels) +
                             ") must be divisible by numGroups (" + std::to_string(groups) + ")");
}

namespace {

// Reads a grouped (out x in/groups x taps) weight block in PyTorch order into dense per-tap matrices.
void read_grouped_weights(std::vector<Eigen::MatrixXf>& taps, const long groups,
                          std::vector<float>::iterator& weights) {
  const long out = taps[0].rows();
  const long in = taps[0].cols();
  const long out_per_group = out / groups;
  const long in_per_group = in / groups;
  for (long o = 0; o < out; ++o) {
    const long first_input = (o / out_per_group) * in_per_group;
    for (long i = 0; i < in_per_group; ++i)
      for (auto& tap : taps)
        tap(o, first_input + i) = *(weights++);
  }
}

// The kernels' copy of a layer that runs a kernel (else nothing): the diagonal blocks of each tap's dense
// matrix, tap after tap, and the bias (left empty without one), as kernels::pack_block_diagonal and pack_bias
// lay them out.
void pack_for_kernels(const bool has_kernel, const Eigen::MatrixXf* taps, const size_t tap_count,
                      const Eigen::VectorXf& bias, const int groups, AlignedVector<float>& packed_weights,
                      AlignedVector<float>& packed_bias) {
  packed_weights.clear();
  packed_bias.clear();
  if (!has_kernel)
    return;
  const auto out = static_cast<int>(taps[0].rows());
  const auto in = static_cast<int>(taps[0].cols());
  const auto tap_size = static_cast<size_t>(kernels::packed_size(out, in, groups));
  packed_weights.assign(tap_count * tap_size, 0.0f);
  for (size_t k = 0; k < tap_count; ++k)
    kernels::pack_block_diagonal(taps[k].data(), taps[k].outerStride(), out, in, groups,
                                 packed_weights.data() + k * tap_size);
  // Zeros for a layer without a bias: the kernels always add one (x + 0 is x).
  packed_bias.assign(static_cast<size_t>(kernels::packed_bias_size(out, groups)), 0.0f);
  if (bias.size() > 0)
    kernels::pack_bias(bias.data(), out, groups, packed_bias.data());
}

void read_bias(Eigen::VectorXf& bias, std::vector<float>::iterator& weights) {
  for (long o = 0; o < bias.size(); ++o)
    bias(o) = *(weights++);
}

// out += W * in over the diagonal blocks of a grouped matrix only.
template <class Weight, class In, class Out>
void add_grouped_product(const Weight& weight, const In& in, Out& out, const long groups) {
  if (groups == 1) {
    out.noalias() += weight * in;
    return;
  }
  const long out_per_group = weight.rows() / groups;
  const long in_per_group = weight.cols() / groups;
  for (long g = 0; g < groups; ++g)
    out.middleRows(g * out_per_group, out_per_group).noalias() +=
        weight.block(g * out_per_group, g * in_per_group, out_per_group, in_per_group) *
        in.middleRows(g * in_per_group, in_per_group);
}

} // namespace

// ---------------------------------------------------------------------------------------------- Conv1x1

Conv1x1::Conv1x1(const int in_channels, const int out_channels, const bool _bias, const int groups) :
    _num_groups(groups),
    _in_channels(in_channels),
    _out_channels(out_channels),
    _do_bias(_bias) {
  check_conv_groups(in_channels, out_channels, groups);
  _weight.setZero(out_channels, in_channels);
  if (_bias)
    this->_bias.setZero(out_channels);
  _is_depthwise = groups == in_channels && groups == out_channels && groups > 1;
  _kernel = kernels::pick_conv1x1_kernel(out_channels, in_channels, groups);
  pack_for_kernels(_kernel != nullptr, &_weight, 1, this->_bias, groups, _packed_weight, _packed_bias);
}

long long Conv1x1::count_weights(const long long in_channels, const long long out_channels, const bool bias,
                                 const long long groups) {
  return out_channels * (in_channels / groups) + (bias ? out_channels : 0);
}

long Conv1x1::get_num_weights() const {
  return static_cast<long>(count_weights(_in_channels, _out_channels, _do_bias, _num_groups));
}

void Conv1x1::SetMaxBufferSize(const int maxBufferSize) {
  _output.setZero(_out_channels, maxBufferSize);
}

void Conv1x1::set_weights_(std::vector<float>::iterator& weights) {
  std::vector<Eigen::MatrixXf> taps{Eigen::MatrixXf::Zero(_out_channels, _in_channels)};
  read_grouped_weights(taps, _num_groups, weights);
  _weight = std::move(taps[0]);
  if (_do_bias)
    read_bias(_bias, weights);
  pack_for_kernels(_kernel != nullptr, &_weight, 1, _bias, _num_groups, _packed_weight, _packed_bias);
}

void Conv1x1::apply(const Eigen::Ref<const Eigen::MatrixXf>& input,
                    const Eigen::Ref<const Eigen::MatrixXf>* addend, Eigen::Ref<Eigen::MatrixXf> out,
                    const int num_frames) const {
  if (_kernel) {
    _kernel(_packed_weight.data(), _packed_bias.data(), input.data(), input.outerStride(),
            addend ? addend->data() : nullptr, addend ? addend->outerStride() : 0, out.data(),
            out.outerStride(), num_frames);
    return;
  }
  auto result = out.leftCols(num_frames);
  const auto in = input.leftCols(num_frames);
  if (_is_depthwise) {
    result.array() = in.array().colwise() * _weight.diagonal().array();
  } else {
    result.setZero();
    add_grouped_product(_weight, in, result, _num_groups);
  }
  if (_do_bias)
    result.colwise() += _bias;
  if (addend)
    result += addend->leftCols(num_frames);
}

Eigen::MatrixXf Conv1x1::process(const Eigen::MatrixXf& input, const int num_frames) const {
  Eigen::MatrixXf result(_out_channels, num_frames);
  apply(input, nullptr, result, num_frames);
  return result;
}

void Conv1x1::process_(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames) {
  apply(input, nullptr, _output, num_frames);
}

void Conv1x1::process_into_(const Eigen::Ref<const Eigen::MatrixXf>& input,
                            Eigen::Ref<Eigen::MatrixXf> destination, const int num_frames) const {
  apply(input, nullptr, destination, num_frames);
}

void Conv1x1::process_plus_(const Eigen::Ref<const Eigen::MatrixXf>& input,
                            const Eigen::Ref<const Eigen::MatrixXf>& addend,
                            Eigen::Ref<Eigen::MatrixXf> destination, const int num_frames) const {
  apply(input, &addend, destination, num_frames);
}

// ----------------------------------------------------------------------------------------------- Conv1D

Conv1D::Conv1D(const int in_channels, const int out_channels, const int kernel_size, const int bias,
               const int dilation, const int groups) {
  set_size_(in_channels, out_channels, kernel_size, bias != 0, dilation, groups);
}

void Conv1D::set_size_(const int in_channels, const int out_channels, const int kernel_size,
                       const bool do_bias, const int _dilation, const int groups) {
  check_conv_groups(in_channels, out_channels, groups);
  if (kernel_size < 1)
    throw std::runtime_error("Conv1D: kernel_size must be at least 1, got " + std::to_string(kernel_size));
  if (_dilation < 0)
    throw std::runtime_error("Conv1D: dilation must not be negative, got " + std::to_string(_dilation));
  _in_channels = in_channels;
  _out_channels = out_channels;
  _kernel_size = kernel_size;
  this->_dilation = _dilation;
  _num_groups = groups;
  _is_depthwise = groups == in_channels && groups == out_channels && groups > 1;
  _weight.assign(kernel_size, Eigen::MatrixXf::Zero(out_channels, in_channels));
  if (do_bias)
    _bias.setZero(out_channels);
  else
    _bias.resize(0);
  _tap_kernel = kernels::pick_conv1d_tap_kernel(out_channels, in_channels, groups);
  _mixin_kernel = kernels::conv1d_tap_mixin_variant(_tap_kernel);
  pack_taps();
  _has_cached_prewarm_state = false;
  _output.resize(0, 0);
}

void Conv1D::set_weights_(std::vector<float>::iterator& weights) {
  read_grouped_weights(_weight, _num_groups, weights);
  if (_bias.size() > 0)
    read_bias(_bias, weights);
  pack_taps();
  _has_cached_prewarm_state = false;
}

void Conv1D::pack_taps() {
  pack_for_kernels(_tap_kernel != nullptr, _weight.data(), _weight.size(), _bias, _num_groups, _packed_weight,
                   _packed_bias);
}

void Conv1D::set_size_and_weights_(const int in_channels, const int out_channels, const int kernel_size,
                                   const int _dilation, const bool do_bias, const int groups,
                                   std::vector<float>::iterator& weights) {
  set_size_(in_channels, out_channels, kernel_size, do_bias, _dilation, groups);
  set_weights_(weights);
}

long long Conv1D::count_weights(const long long in_channels, const long long out_channels,
                                const long long kernel_size, const bool bias, const long long groups) {
  return out_channels * (in_channels / groups) * kernel_size + (bias ? out_channels : 0);
}

long Conv1D::get_num_weights() const {
  return static_cast<long>(count_weights(_in_channels, _out_channels, _kernel_size, has_bias(), _num_groups));
}

void Conv1D::SetMaxBufferSize(const int maxBufferSize) {
  _output.setZero(_out_channels, maxBufferSize);
  _history.reset(static_cast<int>(_in_channels), static_cast<long>(_kernel_size - 1) * _dilation,
                 maxBufferSize);
}

template <class TapWindow, class Out>
void Conv1D::convolve(const TapWindow& tap_window, Out&& out) const {
  const long reach = static_cast<long>(_kernel_size - 1) * _dilation;
  if (_tap_kernel) {
    // One call for all taps: the kernel keeps its sums in registers from the first tap to the last.
    const auto oldest = tap_window(reach);
    _tap_kernel(_packed_weight.data(), _packed_bias.data(), _kernel_size, _dilation * oldest.outerStride(),
                oldest.data(), oldest.outerStride(), out.data(), out.outerStride(),
                static_cast<int>(out.cols()));
    return;
  }
  if (has_bias())
    out.colwise() = _bias;
  else
    out.setZero();
  for (int k = 0; k < _kernel_size; ++k) {
    const auto window = tap_window(reach - static_cast<long>(k) * _dilation);
    if (_is_depthwise)
      out.array() += window.array().colwise() * _weight[k].diagonal().array();
    else
      add_grouped_product(_weight[k], window, out, _num_groups);
  }
}

void Conv1D::Process(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames) {
  _history.write(input, num_frames);
  convolve([&](const long delay) { return _history.window(delay, num_frames); },
           _output.leftCols(num_frames));
}

void Conv1D::process_plus_mixin_(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames,
                                 const Conv1x1& mixin, const float* condition,
                                 Eigen::Ref<Eigen::MatrixXf> destination) {
  const float* oldest = consume_input(input, num_frames);
  const long stride = _history.channels(); // the history's columns are contiguous
  _mixin_kernel(_packed_weight.data(), _packed_bias.data(), _kernel_size, _dilation * stride, oldest, stride,
                mixin.packed_weights(), mixin.packed_bias(), condition, destination.data(),
                destination.outerStride(), num_frames);
}

const float* Conv1D::consume_input(const Eigen::Ref<const Eigen::MatrixXf>& input, const int num_frames) {
  _history.write(input, num_frames);
  return _history.window(static_cast<long>(_kernel_size - 1) * _dilation, num_frames).data();
}

void Conv1D::process_(const Eigen::MatrixXf& input, Eigen::MatrixXf& output, const long i_start,
                      const long ncols, const long j_start) const {
  convolve([&](const long delay) { return input.middleCols(i_start - delay, ncols); },
           output.middleCols(j_start, ncols));
}

void Conv1D::CacheStateAsPrewarmed() {
  if (_history.channels() == 0)
    return;
  _cached_prewarm_state = _history.latest_column();
  _has_cached_prewarm_state = true;
}

void Conv1D::PrewarmFromCache() {
  if (_has_cached_prewarm_state && _history.channels() == _cached_prewarm_state.size())
    _history.fill(_cached_prewarm_state);
}

} // namespace nam
