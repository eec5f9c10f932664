// loadmodel: loads a .nam file and describes the model, or explains why it cannot be loaded.

#include <iostream>
#include <string>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/slimmable.h"
#include "cli.h"

namespace {
constexpr const char* kUsage =
    "usage: loadmodel <model.nam>\n"
    "\n"
    "Loads the model and prints its architecture, channels, expected sample rate,\n"
    "prewarm length and weight count. Exits with status 1 if it cannot be loaded.\n";
} // namespace

int main(int argc, char* argv[]) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (!arg.empty() && arg[0] == '-')
      nam_tools::fail_usage("loadmodel", "unknown option " + arg, kUsage);
    if (!path.empty())
      nam_tools::fail_usage("loadmodel", "expected one model file, got more", kUsage);
    path = arg;
  }
  if (path.empty())
    nam_tools::fail_usage("loadmodel", "no model file given", kUsage);

  nam::dspData contents;
  std::unique_ptr<nam::DSP> model;
  try {
    model = nam::get_dsp(std::filesystem::path(path), contents);
  } catch (const std::exception& e) {
    nam_tools::fail("loadmodel", e.what());
  }

  const double rate = model->GetExpectedSampleRate();
  std::cout << "Model loaded successfully: " << path << "\n";
  std::cout << "  architecture:         " << contents.architecture << " (file version " << contents.version
            << ")\n";
  std::cout << "  channels in/out:      " << model->NumInputChannels() << " / " << model->NumOutputChannels()
            << "\n";
  std::cout << "  expected sample rate: ";
  if (rate > 0)
    std::cout << rate << " Hz\n";
  else
    std::cout << "unknown (the file does not say)\n";
  std::cout << "  prewarm samples:      " << model->GetPrewarmSamples() << "\n";
  std::cout << "  weights:              " << contents.weights.size() << "\n";
  if (auto* slimmable = dynamic_cast<nam::SlimmableModel*>(model.get())) {
    std::cout << "  slimmable:            yes, breakpoints";
    for (const double b : slimmable->GetSlimmableSizeBreakpoints())
      std::cout << " " << b;
    std::cout << "\n";
  }
  if (model->HasLoudness())
    std::cout << "  loudness:             " << model->GetLoudness() << " dB\n";
  if (model->HasInputLevel())
    std::cout << "  input level:          " << model->GetInputLevel() << " dBu\n";
  if (model->HasOutputLevel())
    std::cout << "  output level:         " << model->GetOutputLevel() << " dBu\n";
  return 0;
}
