#pragma once
/// \file dsp.h
/// \brief The model base class `nam::DSP` and the building blocks every architecture shares.
///
/// Hosts use a model in three steps: load it (`nam::get_dsp`, see get_dsp.h), prepare it on a non-audio
/// thread with `Reset(sampleRate, maxBufferSize)`, then call `process()` from the audio thread.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "activations.h"
#include "compiler.h"
#include "denormals.h"
#include "json.h"
#include "model_config.h"

/// \def NAM_SAMPLE
/// \brief Sample type of `process()`: double, or float when the build defines NAM_SAMPLE_FLOAT.
#ifdef NAM_SAMPLE_FLOAT
#  define NAM_SAMPLE float
#else
#  define NAM_SAMPLE double
#endif

/// \brief Buffer size that `prewarm()` adopts when the host has not called `Reset()` yet.
#ifndef NAM_DEFAULT_MAX_BUFFER_SIZE
#  define NAM_DEFAULT_MAX_BUFFER_SIZE 4096
#endif

/// \brief Value of `GetExpectedSampleRate()` for files that do not state their sample rate.
#define NAM_UNKNOWN_EXPECTED_SAMPLE_RATE -1.0

namespace nam {
namespace wavenet {
class WaveNet;
} // namespace wavenet

/// \brief Changes, for the current thread and for as long as it lives, whether newly constructed models
/// prewarm when they are `Reset()`.
///
/// Models that already exist keep their own setting. Scopes nest and restore in reverse order.
/// Thread safety: the default is thread-local, so scopes on different threads do not interact.
class ScopedPrewarmOnResetDefault {
public:
  /// \brief Makes `prewarmOnReset` this thread's default until the destructor restores the previous one.
  explicit ScopedPrewarmOnResetDefault(const bool prewarmOnReset);
  ~ScopedPrewarmOnResetDefault();
  ScopedPrewarmOnResetDefault(const ScopedPrewarmOnResetDefault&) = delete;
  ScopedPrewarmOnResetDefault& operator=(const ScopedPrewarmOnResetDefault&) = delete;

  /// \brief The default that was in force before this scope began.
  bool PreviousPrewarmOnReset() const { return mSaved; }

private:
  bool mSaved;
};

/// \brief Base class of every model.
///
/// Contract for hosts:
/// - `process()` is real-time safe: it never allocates, locks, throws or does I/O. Call it from one
///   thread at a time. Blocks larger than the size given to `Reset()` are processed in pieces.
/// - `Reset()` and `prewarm()` allocate and may take a while (prewarm runs the model on silence); call
///   them from a non-audio thread while `process()` is not running.
/// - The level, loudness, channel and sample-rate getters are cheap and never allocate.
/// - `SetPrewarmOnReset()`/`GetPrewarmOnReset()` are atomic and may be called from any thread.
/// - Different instances are independent and may run on different threads at the same time.
class DSP {
public:
  /// \param in_channels, out_channels channel counts of `process()`; both must be positive.
  /// \param expected_sample_rate the rate the model was trained at, or -1 when unknown.
  DSP(const int in_channels, const int out_channels, const double expected_sample_rate);
  virtual ~DSP() = default;
  DSP(const DSP&) = delete;
  DSP& operator=(const DSP&) = delete;

  /// \brief Runs the model on `GetPrewarmSamples()` samples of silence so that its state settles.
  /// Uses the current max buffer size (adopting `NAM_DEFAULT_MAX_BUFFER_SIZE` if none was set). Allocates.
  virtual void prewarm();

  /// \brief Processes `num_frames` frames. `input[c]` and `output[c]` point at `num_frames` samples of
  /// input channel `c` and output channel `c`. The base class copies input to output (identity).
  virtual void process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames);

  /// \brief Sample rate the model expects, or -1 if the file does not say.
  double GetExpectedSampleRate() const { return mExpectedSampleRate; }
  /// \brief Number of input channels `process()` reads.
  int NumInputChannels() const { return mNumInputChannels; }
  /// \brief Number of output channels `process()` writes.
  int NumOutputChannels() const { return mNumOutputChannels; }

  /// \brief Input calibration level in dBu (the RMS of a 0 dBFS-peak sine); 0 when unknown.
  double GetInputLevel();
  /// \brief Output calibration level in dBu; 0 when unknown.
  double GetOutputLevel();
  /// \brief Loudness of the model's output in dB. Throws std::runtime_error when unknown.
  double GetLoudness() const;
  /// \brief True once the input level is set (the file's `metadata.input_level_dbu`, or SetInputLevel).
  bool HasInputLevel();
  /// \brief True once the output level is set (the file's `metadata.output_level_dbu`, or SetOutputLevel).
  bool HasOutputLevel();
  /// \brief True once the loudness is set (the file's `metadata.loudness`, or SetLoudness).
  bool HasLoudness() const { return mHasLoudness; }

  /// \brief Number of silent samples `prewarm()` runs so that the model's state settles.
  virtual int GetPrewarmSamples() { return 0; }

  /// \brief Prepares the model for blocks of up to `maxBufferSize` frames at `sampleRate`, returning it to
  /// the state it had after loading, then prewarms it if `GetPrewarmOnReset()` is true. Allocates.
  virtual void Reset(const double sampleRate, const int maxBufferSize);
  /// \brief Deprecated: `Reset()` that prewarms regardless of `GetPrewarmOnReset()`.
  void ResetAndPrewarm(const double sampleRate, const int maxBufferSize);
  /// \brief Whether `Reset()` prewarms this model. Atomic; containers forward it to their submodels.
  virtual void SetPrewarmOnReset(const bool prewarmOnReset);
  /// \brief Whether `Reset()` prewarms this model (atomic).
  bool GetPrewarmOnReset() const;

  /// \brief Sets the input calibration level in dBu (kept in single precision).
  void SetInputLevel(const double inputLevel);
  /// \brief Sets the output calibration level in dBu (kept in single precision).
  void SetOutputLevel(const double outputLevel);
  /// \brief Sets the loudness in dB.
  void SetLoudness(const double loudness);

  /// \brief The largest block the model is prepared for (0 before the first `Reset()` or `prewarm()`).
  int GetMaxBufferSize() const { return mMaxBufferSize; }

protected:
  friend class wavenet::WaveNet; // a WaveNet sizes its condition model directly

  bool mHasLoudness = false;            ///< true once SetLoudness() was called
  double mLoudness = 0.0;               ///< dB; meaningful when mHasLoudness
  double mExpectedSampleRate;           ///< the rate the model was trained at, -1 when unknown
  bool mHaveExternalSampleRate = false; ///< true once Reset() gave the host's rate
  double mExternalSampleRate = -1.0;    ///< the host's rate from the last Reset()
  int mMaxBufferSize = 0;               ///< largest block the buffers hold; 0 before they are sized
  std::atomic<bool> mPrewarmOnReset;    ///< see SetPrewarmOnReset()

  /// \brief Sizes internal buffers for blocks of up to `maxBufferSize` frames. Models override it to
  /// allocate; the base stores the size.
  virtual void SetMaxBufferSize(const int maxBufferSize);

  /// \brief Calls `block(input, output, n)` on consecutive pieces of at most `piece` frames, so a model
  /// whose buffers hold `piece` frames handles any block size without allocating. Denormals are flushed to
  /// zero meanwhile (see denormals.h).
  template <class Block>
  void process_in_pieces(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames, const int piece,
                         Block&& block) {
    const ScopedFlushDenormals flush_denormals;
    if (num_frames <= piece) {
      block(input, output, num_frames);
      return;
    }
    for (int start = 0; start < num_frames; start += piece) {
      for (int c = 0; c < mNumInputChannels; ++c)
        mPieceInputs[c] = input[c] + start;
      for (int c = 0; c < mNumOutputChannels; ++c)
        mPieceOutputs[c] = output[c] + start;
      block(mPieceInputs.data(), mPieceOutputs.data(), std::min(piece, num_frames - start));
    }
  }

private:
  // Calibration levels are kept in single precision, as the original library does (observable).
  struct OptionalLevel {
    bool known = false;
    float dbu = 0.0f;
  };
  const int mNumInputChannels;
  const int mNumOutputChannels;
  std::vector<NAM_SAMPLE*> mPieceInputs; // channel pointers into the current piece (process_in_pieces)
  std::vector<NAM_SAMPLE*> mPieceOutputs;
  OptionalLevel mInputLevel;
  OptionalLevel mOutputLevel;
};

/// \brief Deprecated helper base that keeps a linear history of the input for models with a finite
/// receptive field. Kept for source compatibility with custom architectures written against the original;
/// the built-in models do not use it.
class Buffer : public DSP {
public:
  /// \brief `receptive_field` in samples; throws std::runtime_error if it is negative.
  Buffer(const int in_channels, const int out_channels, const int receptive_field,
         const double expected_sample_rate = -1.0);

protected:
  // Per block, a subclass calls _update_buffers_, computes from the history, then _advance_input_buffer_.

  /// \brief Appends the block to the history (growing it when needed) and sizes the output buffers.
  virtual void _update_buffers_(NAM_SAMPLE** input, int num_frames);
  /// \brief Moves the start of the current block `num_frames` further (after processing a block).
  void _advance_input_buffer_(const int num_frames);
  /// \brief Moves the last `_receptive_field` samples to the front of each input buffer.
  virtual void _rewind_buffers_();
  /// \brief Starts the current block right after the receptive field.
  void _reset_input_buffer();
  /// \brief Sets the receptive field and zeroes the input history to `input_buffer_size` samples.
  void _set_receptive_field(const int new_receptive_field, const int input_buffer_size);
  /// \brief As above, with a history of 32 times the receptive field.
  void _set_receptive_field(const int new_receptive_field);

  /// Input history, one buffer per input channel.
  std::vector<std::vector<float>> _input_buffers;
  /// One buffer per output channel, `num_frames` zeros after _update_buffers_().
  std::vector<std::vector<float>> _output_buffers;
  /// Index in each input buffer where the current block starts.
  long _input_buffer_offset;
  /// Samples of input history each output sample depends on.
  int _receptive_field;
};

/// \brief Everything a `.nam` file holds, as read by `get_dsp`.
struct dspData {
  std::string version;        ///< file format version, e.g. "0.5.4"
  std::string architecture;   ///< registered architecture name, e.g. "WaveNet"
  nlohmann::json config;      ///< the architecture's `config` object
  nlohmann::json metadata;    ///< the `metadata` value; null when the file has none
  std::vector<float> weights; ///< the flat weight list
  double expected_sample_rate = NAM_UNKNOWN_EXPECTED_SAMPLE_RATE; ///< `sample_rate`, or -1 when absent
};

/// \brief Throws std::runtime_error if no registered checker supports this `.nam` file version; prints a
/// warning to stderr for versions that are only partially supported. See get_dsp.h.
void verify_config_version(const std::string version);
} // namespace nam

#include "conv1x1.h"
#include "linear.h"
