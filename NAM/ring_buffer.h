#pragma once
/// \file ring_buffer.h
/// \brief The causal history of a dilated convolution: the most recent input columns, kept contiguous.

#include <Eigen/Dense>

namespace nam {

/// \brief Keeps the last `lookback` input columns of a (channels x frames) signal, followed by the current
/// block, in one contiguous column-major matrix, so that any delayed window of the current block is a plain
/// column range.
///
/// Storage holds the lookback plus room for several blocks; when the room runs out, the lookback is copied
/// back to the front (a "rewind"), which happens once every few blocks instead of on every call.
class RingBuffer {
public:
  /// \brief Allocates for `channels` rows, `lookback` past columns and blocks of up to `max_block` frames,
  /// and zeroes the history. Allocates.
  void reset(int channels, long lookback, int max_block);

  /// \brief Appends a block of `num_frames` columns (at most the `max_block` given to `reset`). A block that
  /// already lies where next_block() said is not copied.
  void write(const Eigen::Ref<const Eigen::MatrixXf>& block, int num_frames);
  /// \brief The first of the contiguous columns (`channels()` floats each) that the next write() of
  /// `num_frames` frames fills, making room first as that write() would: a producer may compute the block
  /// there, and its write() then copies nothing. Valid until that write().
  float* next_block(int num_frames);

  /// \brief `num_frames` columns of the block written last, delayed by `delay` frames (0 <= delay <=
  /// lookback): column t is the input at frame t - delay.
  auto window(long delay, int num_frames) const {
    return _storage.middleCols(_block_start - delay, num_frames);
  }

  /// \brief The most recent input column (the last column of the block written last).
  Eigen::VectorXf latest_column() const {
    const long column = _block_start + _block_frames - 1;
    return column >= 0 ? Eigen::VectorXf(_storage.col(column)) : Eigen::VectorXf::Zero(_storage.rows());
  }

  /// \brief Sets every stored column, history included, to `column`.
  void fill(const Eigen::VectorXf& column);

  /// \brief Past columns kept before each block.
  long lookback() const { return _lookback; }
  /// \brief Rows (0 before the first reset()).
  long channels() const { return _storage.rows(); }

private:
  /// Where the next block of `num_frames` goes, moving the lookback to the front first when the room has
  /// run out (once per prepared block: a second call for the same block returns the same column).
  long prepare(int num_frames);

  Eigen::MatrixXf _storage;
  long _lookback = 0;
  long _block_start = 0; // column where the block written last starts
  int _block_frames = 0;
  long _prepared_start = -1; // column of the next block once prepare() has made room for it, else -1
  int _prepared_frames = 0;
};

} // namespace nam
