// render: runs a model over a WAV file and writes the result as a 32-bit float WAV file.

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "cli.h"
#include "wav.h"

namespace {

constexpr const char* kTool = "render";
constexpr const char* kDefaultOutput = "output.wav";

const std::string kUsage =
    std::string("usage: render [options] <model.nam> <input.wav> [output.wav]\n"
                "\n"
                "Runs the model over input.wav and writes its output to output.wav (default: output.wav in\n"
                "the current directory) as 32-bit float, one channel per model output, at the input's\n"
                "sample rate. Input: PCM 8/16/24/32-bit or float 32/64-bit WAV. Its channels must match the\n"
                "model's inputs, except that a mono file feeds every input of a multi-input model and a\n"
                "single-input model renders channel 0 of a multi-channel file (both noted on stderr).\n"
                "The input must be at the model's sample rate, when the model states one (no resampling).\n"
                "Inputs longer than 10 s show their progress on stderr.\n"
                "\n"
                "options:\n") +
    nam_tools::RunOptions(false).help() +
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if a file cannot be read or written or does not suit the model,\n"
    "2 for a bad command line.\n";

struct RenderOptions {
  nam_tools::RunOptions run{false}; // exact tanh by default, as the original's render
  std::string model_path;
  std::string input_path;
  std::string output_path = kDefaultOutput;
};

RenderOptions parse_arguments(int argc, char* argv[]) {
  nam_tools::CommandLine args(kTool, kUsage.c_str(), argc, argv);
  RenderOptions options;
  std::vector<std::string> files;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (options.run.take(arg, args))
      continue;
    if (nam_tools::CommandLine::is_option(arg))
      args.usage_error("unknown option " + arg);
    files.push_back(arg);
  }
  if (files.size() < 2)
    args.usage_error("expected <model.nam> <input.wav> [output.wav], got " + std::to_string(files.size()) +
                     (files.size() == 1 ? " file" : " files"));
  if (files.size() > 3)
    args.usage_error("too many arguments: expected at most 3 files, got " + std::to_string(files.size()));
  options.model_path = files[0];
  options.input_path = files[1];
  if (files.size() == 3)
    options.output_path = files[2];
  return options;
}

/// For each model input, the channel of `input` it reads (see the usage text for the rules).
std::vector<const std::vector<float>*> route_inputs(const nam_tools::wav::Audio& input, int model_inputs,
                                                    const std::string& input_path) {
  const int file_channels = static_cast<int>(input.channels.size());
  std::vector<const std::vector<float>*> routes(model_inputs);
  if (file_channels == model_inputs) {
    for (int c = 0; c < model_inputs; ++c)
      routes[c] = &input.channels[c];
  } else if (model_inputs == 1 || file_channels == 1) {
    std::cerr << "render: note: " << input_path << " has " << file_channels << " channels and the model "
              << model_inputs
              << (model_inputs == 1 ? " input: rendering channel 0 only\n"
                                    : " inputs: feeding the mono signal to every input\n");
    std::fill(routes.begin(), routes.end(), &input.channels[0]);
  } else {
    nam_tools::fail(kTool, input_path + " has " + std::to_string(file_channels) +
                               " channels but the model takes " + std::to_string(model_inputs) + " inputs");
  }
  return routes;
}

/// As the original's render: an input at another rate than the one the model was trained at is refused
/// (the tool does not resample).
void check_sample_rate(const nam::DSP& model, const nam_tools::wav::Audio& input,
                       const std::string& input_path) {
  const double expected = model.GetExpectedSampleRate();
  if (expected > 0 && std::fabs(expected - input.sample_rate) > 0.5)
    nam_tools::fail(kTool, input_path + " is at " + std::to_string(input.sample_rate) +
                               " Hz but the model expects " + std::to_string(static_cast<long>(expected)) +
                               " Hz; resample the input first");
}

/// Runs the model over the routed input in blocks of `block` frames.
nam_tools::wav::Audio process_all(nam::DSP& model, const std::vector<const std::vector<float>*>& routes,
                                  std::size_t frames, std::uint32_t sample_rate, int block) {
  std::vector<std::vector<NAM_SAMPLE>> in_blocks(routes.size(), std::vector<NAM_SAMPLE>(block));
  std::vector<std::vector<NAM_SAMPLE>> out_blocks(model.NumOutputChannels(), std::vector<NAM_SAMPLE>(block));
  std::vector<NAM_SAMPLE*> in_pointers;
  std::vector<NAM_SAMPLE*> out_pointers;
  for (auto& channel : in_blocks)
    in_pointers.push_back(channel.data());
  for (auto& channel : out_blocks)
    out_pointers.push_back(channel.data());

  nam_tools::wav::Audio output;
  output.sample_rate = sample_rate;
  output.channels.assign(out_blocks.size(), std::vector<float>(frames));
  // Inputs longer than 10 s report each tenth done on stderr.
  const bool show_progress = frames > 10 * static_cast<std::size_t>(sample_rate);
  std::size_t tenths_done = 0;
  for (std::size_t first = 0; first < frames; first += block) {
    const std::size_t count = std::min<std::size_t>(block, frames - first);
    for (std::size_t c = 0; c < routes.size(); ++c)
      std::copy_n(routes[c]->begin() + first, count, in_blocks[c].begin());
    model.process(in_pointers.data(), out_pointers.data(), static_cast<int>(count));
    for (std::size_t c = 0; c < out_blocks.size(); ++c)
      std::transform(out_blocks[c].begin(), out_blocks[c].begin() + count, output.channels[c].begin() + first,
                     [](NAM_SAMPLE x) { return static_cast<float>(x); });
    if (show_progress && 10 * (first + count) / frames > tenths_done) {
      tenths_done = 10 * (first + count) / frames;
      std::cerr << "\rrender: " << 10 * tenths_done << " % done" << (tenths_done == 10 ? "\n" : "")
                << std::flush;
    }
  }
  return output;
}

int render(const RenderOptions& options) {
  nam::dspData contents;
  std::unique_ptr<nam::DSP> model =
      nam_tools::load_model_or_exit(kTool, options.model_path, options.run, contents);
  std::cout << "model:  " << options.model_path << " (" << contents.architecture << ")\n";
  std::cout << "kernels: " << nam_tools::kernel_description() << "\n";

  nam_tools::wav::Encoding encoding;
  const nam_tools::wav::Audio input = nam_tools::wav::read(options.input_path, &encoding);
  std::cout << "input:  " << options.input_path << ", " << input.channels.size() << " channel(s), "
            << input.sample_rate << " Hz, " << encoding.describe() << ", " << input.num_frames()
            << " frames\n";
  check_sample_rate(*model, input, options.input_path);
  const auto routes = route_inputs(input, model->NumInputChannels(), options.input_path);

  model->Reset(input.sample_rate, options.run.buffer_size);
  const nam_tools::wav::Audio output =
      process_all(*model, routes, input.num_frames(), input.sample_rate, options.run.buffer_size);
  nam_tools::wav::write_float32(options.output_path, output);
  std::cout << "output: " << options.output_path << ", " << output.channels.size() << " channel(s), "
            << output.sample_rate << " Hz, 32-bit float, " << output.num_frames() << " frames\n";
  return 0;
}

} // namespace

int main(int argc, char* argv[]) {
  const RenderOptions options = parse_arguments(argc, argv);
  try {
    return render(options);
  } catch (const std::exception& e) {
    nam_tools::fail(kTool, e.what());
  }
}
