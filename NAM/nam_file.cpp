#include <fstream>
#include <limits>
#include <system_error>

#include "config_reader.h"
#include "dsp.h"
#include "nam_file.h"

namespace nam {
namespace {

constexpr const char* kRequiredKeys[] = {"version", "architecture", "config", "weights"};

// Highest sample rate we accept; anything above is a corrupt file (and would make prewarm lengths absurd).
constexpr double kMaxSampleRate = 10.0e6;

[[noreturn]] void reject_file(const std::filesystem::path& filename, const std::string& what) {
  throw NamFileValidationError("Could not validate .nam file [" + filename.string() + "]: " + what);
}

std::vector<float> read_weights(const nlohmann::json& weights, const std::string& where) {
  if (!weights.is_array())
    throw_config_error(where, "expected an array of numbers, got " + describe_json_value(weights));
  std::vector<float> out(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const nlohmann::json& w = weights[i];
    if (!w.is_number())
      throw_config_error(where + "[" + std::to_string(i) + "]",
                         "expected a number, got " + describe_json_value(w));
    out[i] = json_to_float(w, where + "[" + std::to_string(i) + "]");
  }
  return out;
}

double read_sample_rate(const ConfigReader& root) {
  const nlohmann::json* value = root.find("sample_rate");
  if (value == nullptr)
    return NAM_UNKNOWN_EXPECTED_SAMPLE_RATE;
  const double rate = json_to_number(*value, root.path_of("sample_rate"));
  if (rate == NAM_UNKNOWN_EXPECTED_SAMPLE_RATE)
    return rate;
  if (!(rate > 0.0) || rate > kMaxSampleRate)
    root.fail("sample_rate",
              "expected a positive rate in Hz up to 10 MHz (or -1 for unknown), got " + value->dump());
  return rate;
}

} // namespace

nlohmann::json validate_nam_file(const std::filesystem::path& filename) {
  std::error_code ec;
  if (!std::filesystem::exists(filename, ec))
    reject_file(filename, "file does not exist.");
  if (std::filesystem::is_directory(filename, ec))
    reject_file(filename, "it is a directory, not a file.");
  std::ifstream stream(filename, std::ios::binary);
  if (!stream)
    reject_file(filename, "file could not be read.");

  // Said plainly: the JSON parser would report an empty file as an unexpected end of input.
  if (std::filesystem::file_size(filename, ec) == 0 && !ec)
    throw NamFileValidationError("Could not parse .nam file [" + filename.string() +
                                 "]: the file is empty; expected a JSON object.");

  nlohmann::json root;
  try {
    // Stream extraction stops after the first complete value, so trailing bytes are ignored, as in the
    // original.
    stream >> root;
  } catch (const nlohmann::json::exception& e) {
    throw NamFileValidationError("Could not parse .nam file [" + filename.string() + "]: " + e.what());
  } catch (const std::ios_base::failure& e) {
    reject_file(filename, std::string("file could not be read (") + e.what() + ").");
  }

  if (!root.is_object())
    throw NamFileValidationError("Invalid .nam file [" + filename.string() +
                                 "]: root JSON value must be an object.");
  for (const char* key : kRequiredKeys)
    if (!root.contains(key))
      throw NamFileValidationError("Invalid .nam file [" + filename.string() + "]: missing required key \"" +
                                   key + "\".");
  return root;
}

void read_nam_object(const nlohmann::json& root, dspData& out, const std::string& where) {
  if (!root.is_object())
    throw_config_error(where, "a model must be a JSON object, got " + describe_json_value(root));
  const ConfigReader model(root, where);
  for (const char* key : kRequiredKeys)
    if (!model.contains(key))
      model.fail(key, "required key is missing");

  out.version = model.get_string("version");
  out.architecture = model.get_string("architecture");
  out.config = model.json().at("config");
  out.weights = read_weights(model.json().at("weights"), model.path_of("weights"));
  out.expected_sample_rate = read_sample_rate(model);
  const auto metadata = root.find("metadata");
  out.metadata = metadata == root.end() ? nlohmann::json() : *metadata;
}

} // namespace nam
