#include "wav.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <new>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace nam_tools::wav {
namespace {

constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatFloat = 3;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

// WAVE_FORMAT_EXTENSIBLE names the real format with a GUID: its first two bytes are the format code, the
// other fourteen are the same for every standard sub-format (KSDATAFORMAT_SUBTYPE_PCM, _IEEE_FLOAT, ...).
constexpr std::array<unsigned char, 14> kStandardSubFormatTail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                                  0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

constexpr std::size_t kPlainFmtSize = 16;
constexpr std::size_t kExtensibleFmtSize = 40;
constexpr std::size_t kChunkHeaderSize = 8;
constexpr std::size_t kFramesPerPiece = 4096; // frames converted per read or write

[[noreturn]] void fail_read(const std::filesystem::path& file, const std::string& problem) {
  throw std::runtime_error("WAV file '" + file.string() + "': " + problem);
}

[[noreturn]] void fail_write(const std::filesystem::path& file, const std::string& problem) {
  throw std::runtime_error("cannot write WAV file '" + file.string() + "': " + problem);
}

std::uint16_t load_u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t load_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t load_u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(load_u32(p)) | (static_cast<std::uint64_t>(load_u32(p + 4)) << 32);
}

/// A chunk id made printable for messages.
std::string chunk_name(const unsigned char* id) {
  std::string name(4, '?');
  for (int i = 0; i < 4; ++i)
    if (id[i] >= 0x20 && id[i] < 0x7F)
      name[i] = static_cast<char>(id[i]);
  return name;
}

bool has_id(const unsigned char* id, const char* expected) {
  return std::memcmp(id, expected, 4) == 0;
}

/// Random access to a file of known size; every read must lie inside the file.
class InputFile {
public:
  explicit InputFile(const std::filesystem::path& path) : _path(path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error))
      fail_read(path, "file does not exist");
    if (!std::filesystem::is_regular_file(path, error))
      fail_read(path, "not a regular file");
    _size = std::filesystem::file_size(path, error);
    if (error)
      fail_read(path, "cannot determine its size (" + error.message() + ")");
    _stream.open(path, std::ios::binary);
    if (!_stream)
      fail_read(path, "cannot open it for reading");
  }

  std::uint64_t size() const { return _size; }

  void read(std::uint64_t offset, unsigned char* destination, std::size_t count) {
    if (offset > _size || count > _size - offset)
      fail_read(_path, "file is truncated (needed " + std::to_string(count) + " bytes at offset " +
                           std::to_string(offset) + ")");
    _stream.seekg(static_cast<std::streamoff>(offset));
    _stream.read(reinterpret_cast<char*>(destination), static_cast<std::streamsize>(count));
    if (!_stream)
      fail_read(_path, "read error at offset " + std::to_string(offset));
  }

private:
  std::filesystem::path _path;
  std::uint64_t _size = 0;
  std::ifstream _stream;
};

/// The parts of the fmt chunk the decoder needs, with WAVE_FORMAT_EXTENSIBLE resolved to its sub-format.
struct SampleFormat {
  std::uint16_t code = 0; // kFormatPcm or kFormatFloat
  std::uint16_t channels = 0;
  std::uint32_t sample_rate = 0;
  std::uint16_t block_align = 0;
  std::uint16_t bits = 0;
};

SampleFormat parse_fmt(const std::filesystem::path& file, const unsigned char* body, std::uint32_t size) {
  if (size < kPlainFmtSize)
    fail_read(file, "fmt chunk has " + std::to_string(size) + " bytes, expected at least 16");
  SampleFormat format;
  format.code = load_u16(body);
  format.channels = load_u16(body + 2);
  format.sample_rate = load_u32(body + 4);
  format.block_align = load_u16(body + 12);
  format.bits = load_u16(body + 14);

  if (format.code == kFormatExtensible) {
    if (size < kExtensibleFmtSize)
      fail_read(file, "WAVE_FORMAT_EXTENSIBLE fmt chunk has " + std::to_string(size) + " bytes, expected 40");
    const std::uint16_t valid_bits = load_u16(body + 18);
    if (valid_bits > format.bits)
      fail_read(file, "WAVE_FORMAT_EXTENSIBLE declares " + std::to_string(valid_bits) + " valid bits in " +
                          std::to_string(format.bits) + "-bit samples");
    if (!std::equal(kStandardSubFormatTail.begin(), kStandardSubFormatTail.end(), body + 26))
      fail_read(file, "WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID is not supported");
    format.code = load_u16(body + 24);
  }

  if (format.channels == 0)
    fail_read(file, "fmt chunk declares zero channels");
  if (format.sample_rate == 0)
    fail_read(file, "fmt chunk declares a sample rate of 0 Hz");
  if (format.code == kFormatPcm) {
    if (format.bits != 8 && format.bits != 16 && format.bits != 24 && format.bits != 32)
      fail_read(file, "unsupported PCM sample size of " + std::to_string(format.bits) +
                          " bits (8, 16, 24 and 32 are read)");
  } else if (format.code == kFormatFloat) {
    if (format.bits != 32 && format.bits != 64)
      fail_read(file, "unsupported float sample size of " + std::to_string(format.bits) +
                          " bits (32 and 64 are read)");
  } else {
    fail_read(file, "unsupported sample format code " + std::to_string(format.code) +
                        " (only PCM and IEEE float are read)");
  }
  const std::uint32_t frame_bytes = static_cast<std::uint32_t>(format.channels) * (format.bits / 8);
  if (format.block_align != frame_bytes)
    fail_read(file, "block align is " + std::to_string(format.block_align) + " bytes but " +
                        std::to_string(format.channels) + " channels of " + std::to_string(format.bits) +
                        "-bit samples take " + std::to_string(frame_bytes));
  return format;
}

/// Converts one stored sample to a float in [-1, 1] (integers) or to float (floating point).
float decode_sample(const unsigned char* p, const SampleFormat& format) {
  if (format.code == kFormatFloat) {
    if (format.bits == 32) {
      const std::uint32_t bits = load_u32(p);
      float value;
      std::memcpy(&value, &bits, sizeof value);
      return value;
    }
    const std::uint64_t bits = load_u64(p);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return static_cast<float>(value);
  }
  switch (format.bits) {
  case 8: // unsigned, 128 is silence
    return static_cast<float>(static_cast<int>(p[0]) - 128) * (1.0f / 128.0f);
  case 16:
    return static_cast<float>(static_cast<std::int16_t>(load_u16(p))) * (1.0f / 32768.0f);
  case 24: {
    // Put the 24 bits at the top of a 32-bit word so the arithmetic shift extends the sign.
    const std::uint32_t raw = static_cast<std::uint32_t>(p[0]) << 8 | static_cast<std::uint32_t>(p[1]) << 16 |
                              static_cast<std::uint32_t>(p[2]) << 24;
    return static_cast<float>(static_cast<std::int32_t>(raw) >> 8) * (1.0f / 8388608.0f);
  }
  default: // 32
    return static_cast<float>(static_cast<double>(static_cast<std::int32_t>(load_u32(p))) / 2147483648.0);
  }
}

struct DataChunk {
  std::uint64_t offset = 0;
  std::uint32_t size = 0;
};

void put_u16(std::vector<unsigned char>& bytes, std::uint16_t value) {
  bytes.push_back(static_cast<unsigned char>(value & 0xFF));
  bytes.push_back(static_cast<unsigned char>(value >> 8));
}
void put_u32(std::vector<unsigned char>& bytes, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    bytes.push_back(static_cast<unsigned char>((value >> shift) & 0xFF));
}
void put_id(std::vector<unsigned char>& bytes, const char* id) {
  bytes.insert(bytes.end(), id, id + 4);
}

} // namespace

std::string Encoding::describe() const {
  return std::to_string(bits_per_sample) + (is_float ? "-bit float" : "-bit PCM");
}

Audio read(const std::filesystem::path& file, Encoding* stored_as) {
  InputFile input(file);
  if (input.size() < 12)
    fail_read(file, "too short to be a WAV file (" + std::to_string(input.size()) + " bytes)");
  unsigned char header[12];
  input.read(0, header, sizeof header);
  if (has_id(header, "RF64"))
    fail_read(file, "RF64 (64-bit WAV) files are not supported");
  if (!has_id(header, "RIFF") || !has_id(header + 8, "WAVE"))
    fail_read(file, "not a RIFF/WAVE file");

  // Walk the chunks until both fmt and data are known. The RIFF size is ignored (writers often get it
  // wrong); each chunk must fit in the file.
  std::optional<SampleFormat> format;
  std::optional<DataChunk> data;
  std::uint64_t offset = sizeof header;
  while (!(format && data) && offset < input.size() && input.size() - offset >= kChunkHeaderSize) {
    unsigned char chunk[kChunkHeaderSize];
    input.read(offset, chunk, sizeof chunk);
    const std::uint32_t size = load_u32(chunk + 4);
    const std::uint64_t body = offset + kChunkHeaderSize;
    if (size > input.size() - body)
      fail_read(file, "chunk '" + chunk_name(chunk) + "' at offset " + std::to_string(offset) + " claims " +
                          std::to_string(size) + " bytes but only " + std::to_string(input.size() - body) +
                          " remain (truncated or corrupt file)");
    if (has_id(chunk, "fmt ")) {
      if (format)
        fail_read(file, "more than one fmt chunk");
      unsigned char fmt_body[kExtensibleFmtSize] = {};
      input.read(body, fmt_body, std::min<std::size_t>(size, sizeof fmt_body));
      format = parse_fmt(file, fmt_body, size);
    } else if (has_id(chunk, "data")) {
      if (data)
        fail_read(file, "more than one data chunk");
      data = DataChunk{body, size};
    }
    offset = body + size + (size & 1u); // chunks are padded to an even size
  }
  if (!format)
    fail_read(file, "no fmt chunk");
  if (!data)
    fail_read(file, "no data chunk");

  const std::size_t frame_bytes = format->block_align;
  const std::size_t sample_bytes = format->bits / 8;
  const std::size_t frames = data->size / frame_bytes;
  Audio audio;
  audio.sample_rate = format->sample_rate;
  try {
    audio.channels.assign(format->channels, std::vector<float>(frames));
  } catch (const std::bad_alloc&) {
    fail_read(file, "not enough memory for " + std::to_string(frames) + " frames");
  }

  std::vector<unsigned char> piece(std::min(frames, kFramesPerPiece) * frame_bytes);
  for (std::size_t first = 0; first < frames; first += kFramesPerPiece) {
    const std::size_t count = std::min(kFramesPerPiece, frames - first);
    input.read(data->offset + first * frame_bytes, piece.data(), count * frame_bytes);
    for (std::size_t f = 0; f < count; ++f)
      for (std::size_t c = 0; c < format->channels; ++c)
        audio.channels[c][first + f] =
            decode_sample(piece.data() + f * frame_bytes + c * sample_bytes, *format);
  }
  if (stored_as != nullptr)
    *stored_as = Encoding{format->code == kFormatFloat, format->bits};
  return audio;
}

void write_float32(const std::filesystem::path& file, const Audio& audio) {
  const std::size_t channels = audio.channels.size();
  if (channels == 0 || 4 * channels > 0xFFFF) // the frame size must fit the 16-bit block align field
    fail_write(file, "cannot store " + std::to_string(channels) + " channels");
  const std::size_t frames = audio.num_frames();
  for (const std::vector<float>& channel : audio.channels)
    if (channel.size() != frames)
      fail_write(file, "channels have different lengths");
  if (audio.sample_rate == 0)
    fail_write(file, "sample rate is 0 Hz");
  const std::uint64_t frame_bytes = 4 * static_cast<std::uint64_t>(channels);
  const std::uint64_t byte_rate = audio.sample_rate * frame_bytes;
  if (byte_rate > 0xFFFFFFFFu)
    fail_write(file, "sample rate " + std::to_string(audio.sample_rate) + " Hz is too high for the format");

  // Layout: RIFF header, an 18-byte fmt chunk (float formats carry a cbSize field), a fact chunk with the
  // frame count (required for non-PCM data), then the data.
  constexpr std::uint32_t kFmtSize = 18;
  constexpr std::uint32_t kHeaderBytes = 12 + (8 + kFmtSize) + (8 + 4) + 8;
  const std::uint64_t data_bytes = frame_bytes * frames;
  if (kHeaderBytes - 8 + data_bytes > 0xFFFFFFFFu || frames > 0xFFFFFFFFu)
    fail_write(file, "too much audio for one WAV file (4 GiB limit)");

  std::vector<unsigned char> header;
  put_id(header, "RIFF");
  put_u32(header, static_cast<std::uint32_t>(kHeaderBytes - 8 + data_bytes));
  put_id(header, "WAVE");
  put_id(header, "fmt ");
  put_u32(header, kFmtSize);
  put_u16(header, kFormatFloat);
  put_u16(header, static_cast<std::uint16_t>(channels));
  put_u32(header, audio.sample_rate);
  put_u32(header, static_cast<std::uint32_t>(byte_rate));
  put_u16(header, static_cast<std::uint16_t>(frame_bytes));
  put_u16(header, 32);
  put_u16(header, 0); // cbSize: no extension
  put_id(header, "fact");
  put_u32(header, 4);
  put_u32(header, static_cast<std::uint32_t>(frames));
  put_id(header, "data");
  put_u32(header, static_cast<std::uint32_t>(data_bytes));

  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out)
    fail_write(file, "cannot open it for writing");
  out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));

  std::vector<unsigned char> piece;
  piece.reserve(std::min<std::size_t>(frames, kFramesPerPiece) * frame_bytes);
  for (std::size_t first = 0; first < frames && out; first += kFramesPerPiece) {
    piece.clear();
    const std::size_t last = std::min(frames, first + kFramesPerPiece);
    for (std::size_t f = first; f < last; ++f)
      for (const std::vector<float>& channel : audio.channels) {
        std::uint32_t bits;
        std::memcpy(&bits, &channel[f], sizeof bits);
        put_u32(piece, bits);
      }
    out.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(piece.size()));
  }
  out.close();
  if (!out)
    fail_write(file, "I/O error while writing");
}

} // namespace nam_tools::wav
