// loadmodel: loads a .nam file and describes the model, or explains why it cannot be loaded.

#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "NAM/activations.h"
#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/registry.h"
#include "NAM/slimmable.h"
#include "cli.h"

namespace {
constexpr const char* kUsage =
    "usage: loadmodel [--kernels [--fast-tanh]] <model.nam>\n"
    "\n"
    "Loads the model and prints its architecture, channels, expected sample rate,\n"
    "prewarm length and weight count. Exits with status 1 if it cannot be loaded.\n"
    "\n"
    "options:\n"
    "  --kernels    also list each convolution (Conv1x1, and Conv1D with all its taps) and each\n"
    "               WaveNet layer that may run as one kernel, in the order the model builds them:\n"
    "               its shape (out, in, groups) and the kernel it runs, templated or generic,\n"
    "               with the reason when generic. NAM_ISA caps the instruction set (baseline,\n"
    "               avx2, avx512).\n"
    "  --fast-tanh  build the model with the fast tanh approximation, as benchmodel runs it by\n"
    "               default (some fused layer kernels serve only one of the two tanh forms)\n"
    "  -h, --help   print this help and exit\n";

/// The weights of a model's file: its own list, and those of its submodels (a container's list is empty).
std::size_t count_weights(const nlohmann::json& config, const std::size_t own) {
  std::size_t total = own;
  const auto submodels = config.find("submodels");
  if (config.is_object() && submodels != config.end() && submodels->is_array())
    for (const nlohmann::json& submodel : *submodels) {
      const auto model = submodel.find("model");
      if (model == submodel.end() || !model->is_object())
        continue;
      const auto weights = model->find("weights");
      const auto model_config = model->find("config");
      total += count_weights(model_config != model->end() ? *model_config : nlohmann::json(),
                             weights != model->end() && weights->is_array() ? weights->size() : 0);
    }
  return total;
}

/// Prints the kernel each convolution and each one-kernel layer picked, and how many of each run templated
/// or as one kernel.
void print_kernels(const std::vector<nam::kernels::PickReport>& picks) {
  int convolutions = 0, templated = 0, layers = 0, one_kernel = 0;
  for (const nam::kernels::PickReport& pick : picks) {
    ++(pick.one_kernel_layer() ? layers : convolutions);
    if (pick.why_generic.empty())
      ++(pick.one_kernel_layer() ? one_kernel : templated);
  }
  std::cout << "  kernels:              " << convolutions << " convolutions";
  if (layers > 0)
    std::cout << ", " << layers << " layers that may run as one kernel";
  std::cout << "\n";
  std::cout << "    #    layer          out   in  groups  kernel\n";
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const nam::kernels::PickReport& pick = picks[i];
    std::cout << "    " << std::left << std::setw(5) << i + 1 << std::setw(13) << pick.layer << std::right
              << std::setw(5) << pick.out << std::setw(5) << pick.in << std::setw(8) << pick.groups << "  "
              << pick.kernel;
    if (!pick.why_generic.empty())
      std::cout << " (" << pick.why_generic << ")";
    std::cout << "\n";
  }
  std::cout << "  templated:            " << templated << " of " << convolutions << " convolutions\n";
  if (layers > 0)
    std::cout << "  one-kernel layers:    " << one_kernel << " of " << layers
              << " (the others run their convolutions' kernels in turn)\n";
}
} // namespace

int main(int argc, char* argv[]) {
  std::string path;
  bool list_kernels = false;
  bool fast_tanh = false;
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
    if (arg == "--fast-tanh") {
      fast_tanh = true;
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
  // Layers pick their kernels while the model is built, so the switch comes first.
  if (fast_tanh)
    nam::activations::Activation::enable_fast_tanh();

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
  std::cout << "  weights:              " << count_weights(contents.config, contents.weights.size());
  if (contents.weights.empty() && contents.config.contains("submodels"))
    std::cout << " (in its submodels)";
  std::cout << "\n";
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
