#include <algorithm>
#include <stdexcept>

#include "dsp.h"

namespace nam {
namespace {
// Copied into each model at construction; see ScopedPrewarmOnResetDefault.
thread_local bool tPrewarmOnResetDefault = true;
} // namespace

ScopedPrewarmOnResetDefault::ScopedPrewarmOnResetDefault(const bool prewarmOnReset) :
    mSaved(tPrewarmOnResetDefault) {
  tPrewarmOnResetDefault = prewarmOnReset;
}

ScopedPrewarmOnResetDefault::~ScopedPrewarmOnResetDefault() {
  tPrewarmOnResetDefault = mSaved;
}

DSP::DSP(const int in_channels, const int out_channels, const double expected_sample_rate) :
    mExpectedSampleRate(expected_sample_rate),
    mPrewarmOnReset(tPrewarmOnResetDefault),
    mNumInputChannels(in_channels),
    mNumOutputChannels(out_channels) {
  if (in_channels <= 0 || out_channels <= 0)
    throw std::runtime_error("Channel counts must be positive");
  mPieceInputs.resize(in_channels);
  mPieceOutputs.resize(out_channels);
}

void DSP::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  const int passed_through = std::min(mNumInputChannels, mNumOutputChannels);
  for (int c = 0; c < mNumOutputChannels; ++c) {
    if (c < passed_through)
      std::copy(input[c], input[c] + num_frames, output[c]);
    else
      std::fill(output[c], output[c] + num_frames, NAM_SAMPLE(0));
  }
}

void DSP::prewarm() {
  if (mMaxBufferSize == 0)
    SetMaxBufferSize(NAM_DEFAULT_MAX_BUFFER_SIZE);
  const int total = GetPrewarmSamples();
  if (total <= 0)
    return;
  // Whole blocks of the prepared size, as the original does: the model sees ceil(total/block) blocks.
  const int block = std::max(mMaxBufferSize, 1);
  std::vector<NAM_SAMPLE> silence(static_cast<size_t>(block) * mNumInputChannels, NAM_SAMPLE(0));
  std::vector<NAM_SAMPLE> discarded(static_cast<size_t>(block) * mNumOutputChannels);
  std::vector<NAM_SAMPLE*> in(mNumInputChannels), out(mNumOutputChannels);
  for (int c = 0; c < mNumInputChannels; ++c)
    in[c] = silence.data() + static_cast<size_t>(c) * block;
  for (int c = 0; c < mNumOutputChannels; ++c)
    out[c] = discarded.data() + static_cast<size_t>(c) * block;
  for (long done = 0; done < total; done += block)
    process(in.data(), out.data(), block);
}

void DSP::Reset(const double sampleRate, const int maxBufferSize) {
  mExternalSampleRate = sampleRate;
  mHaveExternalSampleRate = true;
  SetMaxBufferSize(maxBufferSize);
  if (GetPrewarmOnReset())
    prewarm();
}

void DSP::ResetAndPrewarm(const double sampleRate, const int maxBufferSize) {
  // Force prewarming for this call only; restore the caller's choice even if Reset throws.
  struct RestoreFlag {
    DSP& dsp;
    const bool previous;
    ~RestoreFlag() { dsp.SetPrewarmOnReset(previous); }
  } restore{*this, GetPrewarmOnReset()};
  SetPrewarmOnReset(true);
  Reset(sampleRate, maxBufferSize);
}

void DSP::SetPrewarmOnReset(const bool prewarmOnReset) {
  mPrewarmOnReset.store(prewarmOnReset, std::memory_order_release);
}

bool DSP::GetPrewarmOnReset() const {
  return mPrewarmOnReset.load(std::memory_order_acquire);
}

void DSP::SetMaxBufferSize(const int maxBufferSize) {
  mMaxBufferSize = maxBufferSize;
}

double DSP::GetLoudness() const {
  if (!mHasLoudness)
    throw std::runtime_error("Asked for loudness of a model that doesn't know how loud it is!");
  return mLoudness;
}

void DSP::SetLoudness(const double loudness) {
  mHasLoudness = true;
  mLoudness = loudness;
}

double DSP::GetInputLevel() {
  return mInputLevel.dbu;
}
double DSP::GetOutputLevel() {
  return mOutputLevel.dbu;
}
bool DSP::HasInputLevel() {
  return mInputLevel.known;
}
bool DSP::HasOutputLevel() {
  return mOutputLevel.known;
}

void DSP::SetInputLevel(const double inputLevel) {
  mInputLevel = {true, static_cast<float>(inputLevel)};
}
void DSP::SetOutputLevel(const double outputLevel) {
  mOutputLevel = {true, static_cast<float>(outputLevel)};
}

// Buffer ===============================================================================================

namespace {
// Each input buffer holds the receptive field plus this many blocks, so rewinds are rare.
constexpr long kBufferBlocksBetweenRewinds = 32;
} // namespace

Buffer::Buffer(const int in_channels, const int out_channels, const int receptive_field,
               const double expected_sample_rate) :
    DSP(in_channels, out_channels, expected_sample_rate) {
  if (receptive_field < 0)
    throw std::runtime_error("Buffer: receptive field must not be negative");
  _set_receptive_field(receptive_field);
}

void Buffer::_set_receptive_field(const int new_receptive_field) {
  _set_receptive_field(new_receptive_field,
                       static_cast<int>(kBufferBlocksBetweenRewinds * new_receptive_field));
}

void Buffer::_set_receptive_field(const int new_receptive_field, const int input_buffer_size) {
  _receptive_field = new_receptive_field;
  _input_buffers.assign(NumInputChannels(), std::vector<float>(std::max(input_buffer_size, 0), 0.0f));
  _output_buffers.resize(NumOutputChannels());
  _reset_input_buffer();
}

void Buffer::_reset_input_buffer() {
  _input_buffer_offset = _receptive_field;
}

void Buffer::_advance_input_buffer_(const int num_frames) {
  _input_buffer_offset += num_frames;
}

void Buffer::_update_buffers_(NAM_SAMPLE** input, const int num_frames) {
  const long needed = _receptive_field + kBufferBlocksBetweenRewinds * num_frames;
  for (auto& history : _input_buffers) {
    if (static_cast<long>(history.size()) < needed) {
      long grown = 2;
      while (grown < needed)
        grown *= 2;
      // Growing discards the history, as the original does.
      history.assign(grown, 0.0f);
    }
  }
  if (!_input_buffers.empty() &&
      _input_buffer_offset + num_frames > static_cast<long>(_input_buffers[0].size()))
    _rewind_buffers_();
  for (size_t c = 0; c < _input_buffers.size(); ++c)
    for (int i = 0; i < num_frames; ++i)
      _input_buffers[c][_input_buffer_offset + i] = static_cast<float>(input[c][i]);
  for (auto& out : _output_buffers)
    out.assign(num_frames, 0.0f);
}

void Buffer::_rewind_buffers_() {
  for (auto& history : _input_buffers) {
    const long from = _input_buffer_offset - _receptive_field;
    std::copy(history.begin() + from, history.begin() + _input_buffer_offset, history.begin());
  }
  _input_buffer_offset = _receptive_field;
}

} // namespace nam
