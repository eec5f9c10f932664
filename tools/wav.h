#pragma once
// WAV files for the command-line tools. The reader takes what audio software commonly writes and treats
// every size field as untrusted: a malformed file is reported with an exception, never a crash or an
// allocation larger than the file itself.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nam_tools::wav {

/// Audio as one vector of samples per channel; all channels have the same length. Full scale is [-1, 1].
struct Audio {
  std::uint32_t sample_rate = 0; // Hz
  std::vector<std::vector<float>> channels;

  std::size_t num_frames() const { return channels.empty() ? 0 : channels.front().size(); }
};

/// How the samples of a file were stored.
struct Encoding {
  bool is_float = false;
  int bits_per_sample = 0;

  /// E.g. "24-bit PCM", "32-bit float".
  std::string describe() const;
};

/// \brief Reads a WAV file: PCM 8 (unsigned), 16, 24 or 32 bit, IEEE float 32 or 64 bit, plain or
/// WAVE_FORMAT_EXTENSIBLE, any number of channels. Unknown chunks are skipped; a partial frame at the end of
/// the data is dropped. If `stored_as` is given it receives the file's encoding.
/// \throws std::runtime_error naming the file and the problem.
Audio read(const std::filesystem::path& file, Encoding* stored_as = nullptr);

/// \brief Writes `audio` as a 32-bit IEEE float WAV file (replacing any existing file).
/// \throws std::runtime_error naming the file and the problem (no channels, channels of different lengths,
/// a zero sample rate, more data than a WAV file can hold, an I/O error).
void write_float32(const std::filesystem::path& file, const Audio& audio);

} // namespace nam_tools::wav
