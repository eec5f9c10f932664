// make_models: writes the example models (example_models/) from seeded random weights.

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli.h"
#include "model_generator.h"

namespace {
constexpr const char* kUsage =
    "usage: make_models <out_dir>\n"
    "       make_models --list\n"
    "\n"
    "Writes the example models (the trainer's A1 WaveNet and LSTM presets and a grouped WaveNet\n"
    "in the newest file format) with seeded random weights into <out_dir>. The files are the same,\n"
    "byte for byte, on every run and platform. --list prints the models instead.\n";

void print_list() {
  for (const nam_tools::GeneratedModel& model : nam_tools::generate_example_models())
    std::printf("%-20s %6zu weights  %s\n", model.file_name.c_str(), model.weight_count,
                model.description.c_str());
}
} // namespace

int main(int argc, char* argv[]) {
  nam_tools::CommandLine args("make_models", kUsage, argc, argv);
  std::string out_dir;
  bool list = false;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (arg == "--list")
      list = true;
    else if (nam_tools::CommandLine::is_option(arg))
      args.usage_error("unknown option " + arg);
    else if (!out_dir.empty())
      args.usage_error("expected one output directory, got more");
    else
      out_dir = arg;
  }
  if (list && !out_dir.empty())
    args.usage_error("--list takes no output directory");
  if (list) {
    print_list();
    return 0;
  }
  if (out_dir.empty())
    args.usage_error("no output directory given");

  try {
    const auto models = nam_tools::generate_example_models();
    nam_tools::write_example_models(models, out_dir);
    for (const nam_tools::GeneratedModel& model : models)
      std::cout << "wrote " << (std::filesystem::path(out_dir) / model.file_name).string() << " ("
                << model.weight_count << " weights)\n";
  } catch (const std::exception& e) {
    nam_tools::fail("make_models", e.what());
  }
  return 0;
}
