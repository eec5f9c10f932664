#include <algorithm>
#include <cstring>

#include "ring_buffer.h"

namespace nam {

namespace {
// Room for this many maximal blocks after the lookback before the history has to be moved to the front.
constexpr long kBlocksBetweenRewinds = 4;

// memcpy of `count` floats; an empty copy may have null pointers (a matrix with no columns).
void copy_floats(float* destination, const float* source, const long count) {
  if (count > 0)
    std::memcpy(destination, source, sizeof(float) * static_cast<size_t>(count));
}
} // namespace

void RingBuffer::reset(const int channels, const long lookback, const int max_block) {
  _lookback = lookback;
  // At least lookback + max_block of room, so that the lookback copied to the front by a rewind never
  // overlaps its source; and at least twice the lookback, so that long lookbacks (large dilations) are
  // copied at most once per lookback of audio.
  const long block = std::max(max_block, 1);
  const long room = std::max(kBlocksBetweenRewinds * block, 2 * lookback);
  _storage.setZero(channels, lookback + room);
  _block_start = lookback;
  _block_frames = 0;
  _prepared_start = -1;
}

long RingBuffer::prepare(const int num_frames) {
  if (_prepared_start >= 0 && _prepared_frames == num_frames)
    return _prepared_start;
  long start = _block_start + _block_frames;
  if (start + num_frames > _storage.cols()) {
    // Rewind: the lookback of the next block moves to the front (the room keeps the two apart).
    const long rows = _storage.rows();
    copy_floats(_storage.data(), _storage.data() + (start - _lookback) * rows, rows * _lookback);
    start = _lookback;
  }
  _prepared_start = start;
  _prepared_frames = num_frames;
  return start;
}

float* RingBuffer::next_block(const int num_frames) {
  return _storage.data() + prepare(num_frames) * _storage.rows();
}

void RingBuffer::write(const Eigen::Ref<const Eigen::MatrixXf>& block, const int num_frames) {
  const long start = prepare(num_frames);
  _prepared_start = -1;
  const long rows = _storage.rows();
  float* destination = _storage.data() + start * rows;
  // Columns are contiguous in both; a contiguous block is one copy, and none when it is already in place.
  if (block.outerStride() == rows) {
    if (block.data() != destination)
      copy_floats(destination, block.data(), rows * num_frames);
  } else {
    for (int c = 0; c < num_frames; ++c)
      copy_floats(destination + c * rows, block.data() + c * block.outerStride(), rows);
  }
  _block_start = start;
  _block_frames = num_frames;
}

void RingBuffer::fill(const Eigen::VectorXf& column) {
  _storage.colwise() = column;
}

} // namespace nam
