// loadmodel: loads a .nam file and describes the model, or explains why it cannot be loaded.

#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/registry.h"
#include "NAM/slimmable.h"
#include "cli.h"

namespace {
constexpr const char* kUsage =
    "usage: loadmodel [--kernels] <model.nam>\n"
    "\n"
    "Loads the model and prints its architecture, channels, expected sample rate,\n"
    "prewarm length and weight count. Exits with status 1 if it cannot be loaded.\n"
    "\n"
    "options:\n"
    "  --kernels    also list each convolution (Conv1x1, and Conv1D with all its taps) in the\n"
    "               order the model builds them: its shape (out, in, groups) and the kernel it\n"
    "               runs, templated or generic, with the reason when generic. NAM_ISA caps the\n"
    "               instruction set (baseline, avx2, avx512).\n"
    "  -h, --help   print this help and exit\n";

/// Prints the kernel each convolution picked, and how many run templated.
void print_kernels(const std::vector<nam::kernels::PickReport>& picks) {
  int templated = 0;
  std::cout << "  convolutions:         " << picks.size() << "\n";
  std::cout << "    #    layer        out   in  groups  kernel\n";
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const nam::kernels::PickReport& pick = picks[i];
    templated += pick.why_generic.empty() ? 1 : 0;
    std::cout << "    " << std::left << std::setw(5) << i + 1 << std::setw(11) << pick.layer << std::right
              << std::setw(5) << pick.out << std::setw(5) << pick.in << std::setw(8) << pick.groups << "  "
              << pick.kernel;
    if (!pick.why_generic.empty())
      std::cout << " (" << pick.why_generic << ")";
    std::cout << "\n";
  }
  std::cout << "  templated:            " << templated << " of " << picks.size() << "\n";
}
} // namespace

int main(int argc, char* argv[]) {
  std::string path;
  bool list_kernels = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--kernels") {
      list_kernels = true;
      continue;
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
  std::vector<nam::kernels::PickReport> picks;
  if (list_kernels)
    nam::kernels::set_pick_listener(
        [&picks](const nam::kernels::PickReport& pick) { picks.push_back(pick); });
  try {
    model = nam::get_dsp(std::filesystem::path(path), contents);
  } catch (const std::exception& e) {
    nam_tools::fail("loadmodel", e.what());
  }
  nam::kernels::set_pick_listener(nullptr);

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
  if (list_kernels)
    print_kernels(picks);
  return 0;
}
