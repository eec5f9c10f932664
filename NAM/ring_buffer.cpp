#include <algorithm>

#include "ring_buffer.h"

namespace nam {

namespace {
// Room for this many maximal blocks after the lookback before the history has to be moved to the front.
constexpr long kBlocksBetweenRewinds = 4;
} // namespace

void RingBuffer::reset(const int channels, const long lookback, const int max_block) {
  _lookback = lookback;
  // At least lookback + max_block of room, so that the lookback copied to the front by a rewind never
  // overlaps its source.
  const long block = std::max(max_block, 1);
  const long room = std::max(kBlocksBetweenRewinds * block, lookback + block);
  _storage.setZero(channels, lookback + room);
  _block_start = lookback;
  _block_frames = 0;
}

void RingBuffer::write(const Eigen::Ref<const Eigen::MatrixXf>& block, const int num_frames) {
  long start = _block_start + _block_frames;
  if (start + num_frames > _storage.cols()) {
    // Rewind: the lookback of the next block moves to the front.
    _storage.leftCols(_lookback) = _storage.middleCols(start - _lookback, _lookback);
    start = _lookback;
  }
  _storage.middleCols(start, num_frames) = block.leftCols(num_frames);
  _block_start = start;
  _block_frames = num_frames;
}

void RingBuffer::fill(const Eigen::VectorXf& column) {
  _storage.colwise() = column;
}

} // namespace nam
