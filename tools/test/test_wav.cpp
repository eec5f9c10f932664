// WAV reading and writing (tools/wav.h): every supported encoding, the float writer's round trip, and
// malformed files, which must raise std::runtime_error naming the file and the problem.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wav.h"

namespace {

namespace wav = nam_tools::wav;
using Bytes = std::vector<unsigned char>;

void append_u16(Bytes& bytes, std::uint16_t value) {
  bytes.push_back(static_cast<unsigned char>(value & 0xFF));
  bytes.push_back(static_cast<unsigned char>(value >> 8));
}
void append_u32(Bytes& bytes, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    bytes.push_back(static_cast<unsigned char>((value >> shift) & 0xFF));
}
void append_id(Bytes& bytes, const char* id) {
  bytes.insert(bytes.end(), id, id + 4);
}

/// A chunk with its declared size (normally the body's) and a pad byte after odd bodies.
Bytes chunk(const char* id, const Bytes& body, std::uint32_t declared_size) {
  Bytes bytes;
  append_id(bytes, id);
  append_u32(bytes, declared_size);
  bytes.insert(bytes.end(), body.begin(), body.end());
  if (body.size() % 2 == 1)
    bytes.push_back(0);
  return bytes;
}
Bytes chunk(const char* id, const Bytes& body) {
  return chunk(id, body, static_cast<std::uint32_t>(body.size()));
}

/// The body of a plain 16-byte fmt chunk.
Bytes fmt_body(std::uint16_t code, std::uint16_t channels, std::uint32_t rate, std::uint16_t bits,
               std::uint16_t block_align) {
  Bytes body;
  append_u16(body, code);
  append_u16(body, channels);
  append_u32(body, rate);
  append_u32(body, rate * block_align);
  append_u16(body, block_align);
  append_u16(body, bits);
  return body;
}
Bytes fmt_body(std::uint16_t code, std::uint16_t channels, std::uint32_t rate, std::uint16_t bits) {
  return fmt_body(code, channels, rate, bits, static_cast<std::uint16_t>(channels * bits / 8));
}

/// The body of a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk whose sub-format GUID carries `code`.
Bytes extensible_fmt_body(std::uint16_t code, std::uint16_t channels, std::uint32_t rate, std::uint16_t bits,
                          bool standard_guid = true) {
  Bytes body = fmt_body(0xFFFE, channels, rate, bits);
  append_u16(body, 22);   // cbSize
  append_u16(body, bits); // valid bits per sample
  append_u32(body, 0);    // channel mask
  append_u16(body, code);
  const Bytes tail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  body.insert(body.end(), tail.begin(), tail.end());
  if (!standard_guid)
    body.back() ^= 0xFF;
  return body;
}

/// "RIFF" <size> "WAVE" followed by the given chunks.
Bytes riff(std::initializer_list<Bytes> chunks) {
  Bytes contents;
  for (const Bytes& c : chunks)
    contents.insert(contents.end(), c.begin(), c.end());
  Bytes bytes;
  append_id(bytes, "RIFF");
  append_u32(bytes, static_cast<std::uint32_t>(contents.size() + 4));
  append_id(bytes, "WAVE");
  bytes.insert(bytes.end(), contents.begin(), contents.end());
  return bytes;
}

/// A file in the temporary directory, removed when the object goes out of scope.
class TempFile {
public:
  TempFile() {
    static std::atomic<int> counter{0};
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    _path = std::filesystem::temp_directory_path() /
            ("nam_test_wav_" + std::string(test->name()) + "_" + std::to_string(counter++) + ".wav");
  }
  explicit TempFile(const Bytes& bytes) : TempFile() {
    std::ofstream out(_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(_path, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::filesystem::path& path() const { return _path; }

private:
  std::filesystem::path _path;
};

wav::Audio read_bytes(const Bytes& bytes, wav::Encoding* encoding = nullptr) {
  TempFile file(bytes);
  return wav::read(file.path(), encoding);
}

/// Reading `bytes` must fail with a message that names the file and contains `problem`.
void expect_read_error(const Bytes& bytes, const std::string& problem) {
  TempFile file(bytes);
  try {
    wav::read(file.path());
    ADD_FAILURE() << "expected an error containing '" << problem << "'";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << message;
  }
}

/// A valid mono 16-bit file with `frames` silent frames.
Bytes mono16(std::uint32_t frames) {
  return riff({chunk("fmt ", fmt_body(1, 1, 44100, 16)), chunk("data", Bytes(2 * frames, 0))});
}

TEST(Wav, Float32RoundTripKeepsEverySampleAndTheRate) {
  wav::Audio audio;
  audio.sample_rate = 96000;
  audio.channels = {{0.0f, 0.5f, -1.0f, 1.25f, 1e-8f}, {-0.25f, 0.75f, 0.125f, -2.0f, 3.0f}};
  TempFile file;
  wav::write_float32(file.path(), audio);

  wav::Encoding encoding;
  const wav::Audio back = wav::read(file.path(), &encoding);
  EXPECT_EQ(back.sample_rate, 96000u);
  EXPECT_EQ(back.channels, audio.channels);
  EXPECT_TRUE(encoding.is_float);
  EXPECT_EQ(encoding.bits_per_sample, 32);
  EXPECT_EQ(encoding.describe(), "32-bit float");
}

TEST(Wav, WrittenHeaderIsStandardFloatWithFactChunk) {
  wav::Audio audio;
  audio.sample_rate = 48000;
  audio.channels = {{0.5f, -0.5f, 0.25f}};
  TempFile file;
  wav::write_float32(file.path(), audio);
  std::ifstream in(file.path(), std::ios::binary);
  const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Bytes expected_start = riff({chunk("fmt ",
                                           [] {
                                             Bytes body = fmt_body(3, 1, 48000, 32);
                                             append_u16(body, 0);
                                             return body;
                                           }()),
                                     chunk("fact", {3, 0, 0, 0}), chunk("data", Bytes(12, 0))});
  ASSERT_EQ(bytes.size(), expected_start.size());
  // Everything but the samples matches; the first sample is 0.5f = 0x3F000000.
  EXPECT_TRUE(std::equal(expected_start.begin(), expected_start.end() - 12, bytes.begin()));
  EXPECT_EQ(Bytes(bytes.end() - 12, bytes.end() - 8), (Bytes{0x00, 0x00, 0x00, 0x3F}));
}

TEST(Wav, ZeroFramesRoundTrip) {
  wav::Audio audio;
  audio.sample_rate = 44100;
  audio.channels = {{}, {}, {}};
  TempFile file;
  wav::write_float32(file.path(), audio);
  const wav::Audio back = wav::read(file.path());
  EXPECT_EQ(back.channels.size(), 3u);
  EXPECT_EQ(back.num_frames(), 0u);
}

TEST(Wav, ReadsUnsigned8BitPcm) {
  wav::Encoding encoding;
  const wav::Audio audio = read_bytes(
      riff({chunk("fmt ", fmt_body(1, 1, 8000, 8)), chunk("data", {0, 128, 192, 255})}), &encoding);
  EXPECT_EQ(audio.sample_rate, 8000u);
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{-1.0f, 0.0f, 0.5f, 127.0f / 128.0f}));
  EXPECT_EQ(encoding.describe(), "8-bit PCM");
}

TEST(Wav, Reads16BitPcm) {
  Bytes data;
  for (const std::int16_t v :
       {std::int16_t{-32768}, std::int16_t{0}, std::int16_t{16384}, std::int16_t{32767}})
    append_u16(data, static_cast<std::uint16_t>(v));
  const wav::Audio audio = read_bytes(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16)), chunk("data", data)}));
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{-1.0f, 0.0f, 0.5f, 32767.0f / 32768.0f}));
}

TEST(Wav, Reads24BitPcmWithSignExtension) {
  // -8388608 (full-scale negative), 4194304 (half scale), -1 (0xFFFFFF), 1 (one step).
  const Bytes data = {0x00, 0x00, 0x80, 0x00, 0x00, 0x40, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00};
  wav::Encoding encoding;
  const wav::Audio audio =
      read_bytes(riff({chunk("fmt ", fmt_body(1, 1, 48000, 24)), chunk("data", data)}), &encoding);
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{-1.0f, 0.5f, -1.0f / 8388608.0f, 1.0f / 8388608.0f}));
  EXPECT_EQ(encoding.describe(), "24-bit PCM");
}

TEST(Wav, Reads32BitPcm) {
  Bytes data;
  append_u32(data, 0x80000000u); // INT32_MIN
  append_u32(data, 0x40000000u); // half scale
  append_u32(data, 0xC0000000u); // minus half scale
  const wav::Audio audio = read_bytes(riff({chunk("fmt ", fmt_body(1, 1, 48000, 32)), chunk("data", data)}));
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{-1.0f, 0.5f, -0.5f}));
}

TEST(Wav, Reads64BitFloat) {
  Bytes data;
  for (const double v : {0.25, -0.75, 1.5}) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    append_u32(data, static_cast<std::uint32_t>(bits));
    append_u32(data, static_cast<std::uint32_t>(bits >> 32));
  }
  wav::Encoding encoding;
  const wav::Audio audio =
      read_bytes(riff({chunk("fmt ", fmt_body(3, 1, 48000, 64)), chunk("data", data)}), &encoding);
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{0.25f, -0.75f, 1.5f}));
  EXPECT_EQ(encoding.describe(), "64-bit float");
}

TEST(Wav, ReadsExtensiblePcmAndDeinterleavesChannels) {
  // Three channels of 24-bit PCM, two frames: channel c of frame f holds (c + 1) * (f + 1) / 8.
  Bytes data;
  for (int f = 0; f < 2; ++f)
    for (int c = 0; c < 3; ++c) {
      const std::uint32_t value = static_cast<std::uint32_t>((c + 1) * (f + 1)) << 20; // x / 8 of full scale
      data.insert(data.end(), {static_cast<unsigned char>(value), static_cast<unsigned char>(value >> 8),
                               static_cast<unsigned char>(value >> 16)});
    }
  const wav::Audio audio =
      read_bytes(riff({chunk("fmt ", extensible_fmt_body(1, 3, 44100, 24)), chunk("data", data)}));
  ASSERT_EQ(audio.channels.size(), 3u);
  EXPECT_EQ(audio.channels[0], (std::vector<float>{0.125f, 0.25f}));
  EXPECT_EQ(audio.channels[1], (std::vector<float>{0.25f, 0.5f}));
  EXPECT_EQ(audio.channels[2], (std::vector<float>{0.375f, 0.75f}));
}

TEST(Wav, ReadsExtensibleFloat) {
  Bytes data;
  append_u32(data, 0x3F000000u); // 0.5f
  append_u32(data, 0xBE800000u); // -0.25f
  wav::Encoding encoding;
  const wav::Audio audio =
      read_bytes(riff({chunk("fmt ", extensible_fmt_body(3, 2, 48000, 32)), chunk("data", data)}), &encoding);
  ASSERT_EQ(audio.channels.size(), 2u);
  EXPECT_EQ(audio.channels[0], (std::vector<float>{0.5f}));
  EXPECT_EQ(audio.channels[1], (std::vector<float>{-0.25f}));
  EXPECT_TRUE(encoding.is_float);
}

TEST(Wav, SkipsUnknownChunksIncludingPadBytes) {
  Bytes data;
  append_u16(data, 0x4000); // 0.5
  const wav::Audio audio =
      read_bytes(riff({chunk("JUNK", {1, 2, 3}), chunk("fmt ", fmt_body(1, 1, 22050, 16)),
                       chunk("LIST", {'a', 'b', 'c', 'd', 'e'}), chunk("data", data), chunk("cue ", {9})}));
  EXPECT_EQ(audio.sample_rate, 22050u);
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{0.5f}));
}

TEST(Wav, AcceptsDataBeforeFmt) {
  Bytes data;
  append_u16(data, 0xC000); // -0.5
  const wav::Audio audio = read_bytes(riff({chunk("data", data), chunk("fmt ", fmt_body(1, 1, 44100, 16))}));
  EXPECT_EQ(audio.channels.at(0), (std::vector<float>{-0.5f}));
}

TEST(Wav, DropsAPartialFrameAtTheEnd) {
  // Two whole stereo 16-bit frames and three stray bytes.
  const wav::Audio audio =
      read_bytes(riff({chunk("fmt ", fmt_body(1, 2, 44100, 16)), chunk("data", Bytes(11, 0))}));
  EXPECT_EQ(audio.num_frames(), 2u);
}

TEST(Wav, MissingPadByteAfterTheLastChunkIsAccepted) {
  Bytes bytes = riff({chunk("fmt ", fmt_body(1, 1, 8000, 8)), chunk("data", {128, 128, 128})});
  bytes.pop_back(); // the pad byte after the odd-sized data chunk
  EXPECT_EQ(read_bytes(bytes).num_frames(), 3u);
}

TEST(Wav, RejectsMissingAndNonRegularFiles) {
  const std::filesystem::path missing =
      std::filesystem::temp_directory_path() / "nam_test_wav_does_not_exist.wav";
  EXPECT_THROW(wav::read(missing), std::runtime_error);
  try {
    wav::read(std::filesystem::temp_directory_path());
    ADD_FAILURE() << "a directory was read as a WAV file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(Wav, RejectsEmptyAndTinyFiles) {
  expect_read_error({}, "too short");
  expect_read_error({'R', 'I', 'F', 'F', 0, 0}, "too short");
}

TEST(Wav, RejectsOtherContainers) {
  Bytes bytes = mono16(4);
  std::memcpy(bytes.data() + 8, "AVI ", 4);
  expect_read_error(bytes, "not a RIFF/WAVE file");
  Bytes rf64 = mono16(4);
  std::memcpy(rf64.data(), "RF64", 4);
  expect_read_error(rf64, "RF64");
  expect_read_error(Bytes(64, 'x'), "not a RIFF/WAVE file");
}

TEST(Wav, RejectsTruncatedData) {
  Bytes bytes = mono16(100);
  bytes.erase(bytes.end() - 10, bytes.end());
  expect_read_error(bytes, "claims 200 bytes but only 190 remain");
}

TEST(Wav, RejectsAbsurdChunkSizesWithoutAllocatingThem) {
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16)), chunk("data", {0, 0}, 0xFFFFFFFFu)}),
                    "claims 4294967295 bytes");
  expect_read_error(riff({chunk("JUNK", {0, 0}, 0xFFFFFFF0u), chunk("fmt ", fmt_body(1, 1, 44100, 16))}),
                    "chunk 'JUNK'");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16), 0x7FFFFFFFu)}), "chunk 'fmt '");
}

TEST(Wav, RejectsMissingChunks) {
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16))}), "no data chunk");
  expect_read_error(riff({chunk("data", {0, 0})}), "no fmt chunk");
  expect_read_error(riff({}), "no fmt chunk");
}

TEST(Wav, RejectsDuplicateChunks) {
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16)), chunk("fmt ", fmt_body(1, 1, 44100, 16)),
                          chunk("data", {0, 0})}),
                    "more than one fmt chunk");
  expect_read_error(
      riff({chunk("data", {0, 0}), chunk("data", {0, 0}), chunk("fmt ", fmt_body(1, 1, 44100, 16))}),
      "more than one data chunk");
}

TEST(Wav, RejectsBadFmtFields) {
  const Bytes data = chunk("data", Bytes(8, 0));
  expect_read_error(riff({chunk("fmt ", Bytes(14, 0)), data}), "fmt chunk has 14 bytes");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 0, 44100, 16, 2)), data}), "zero channels");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 0, 16)), data}), "sample rate of 0 Hz");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 2, 44100, 16, 2)), data}), "block align is 2 bytes");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 16, 0)), data}), "block align is 0 bytes");
  expect_read_error(riff({chunk("fmt ", fmt_body(1, 1, 44100, 12, 2)), data}), "unsupported PCM sample size");
  expect_read_error(riff({chunk("fmt ", fmt_body(3, 1, 44100, 16)), data}), "unsupported float sample size");
  expect_read_error(riff({chunk("fmt ", fmt_body(2, 1, 44100, 4, 1)), data}),
                    "unsupported sample format code 2");
}

TEST(Wav, RejectsBadExtensibleFmt) {
  const Bytes data = chunk("data", Bytes(8, 0));
  expect_read_error(riff({chunk("fmt ", fmt_body(0xFFFE, 1, 44100, 16)), data}),
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk has 16 bytes");
  expect_read_error(riff({chunk("fmt ", extensible_fmt_body(1, 1, 44100, 16, false)), data}),
                    "sub-format GUID");
  Bytes too_many_valid_bits = extensible_fmt_body(1, 1, 44100, 16);
  too_many_valid_bits[18] = 24;
  expect_read_error(riff({chunk("fmt ", too_many_valid_bits), data}), "24 valid bits in 16-bit samples");
  expect_read_error(riff({chunk("fmt ", extensible_fmt_body(2, 1, 44100, 16)), data}),
                    "unsupported sample format code 2");
}

TEST(Wav, WriteRejectsInconsistentAudio) {
  TempFile file;
  wav::Audio no_channels;
  no_channels.sample_rate = 48000;
  EXPECT_THROW(wav::write_float32(file.path(), no_channels), std::runtime_error);

  wav::Audio ragged;
  ragged.sample_rate = 48000;
  ragged.channels = {{0.0f, 0.0f}, {0.0f}};
  EXPECT_THROW(wav::write_float32(file.path(), ragged), std::runtime_error);

  wav::Audio no_rate;
  no_rate.channels = {{0.0f}};
  EXPECT_THROW(wav::write_float32(file.path(), no_rate), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(file.path()));
}

TEST(Wav, WriteReportsUnwritablePaths) {
  wav::Audio audio;
  audio.sample_rate = 48000;
  audio.channels = {{0.0f}};
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "nam_test_wav_no_such_dir" / "out.wav";
  try {
    wav::write_float32(path, audio);
    ADD_FAILURE() << "writing into a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

} // namespace
