// bench_all: the speed table of docs/benchmarks.md. Times every given model on the generic path and on the
// templated kernels at each instruction set this CPU runs, and prints one Markdown table.

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "NAM/activations.h"
#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/isa.h"
#include "NAM/kernels/registry.h"
#include "cli.h"
#include "timing.h"

namespace {

namespace fs = std::filesystem;
using nam::kernels::Isa;

constexpr const char* kTool = "bench_all";

const char* const kUsage =
    "usage: bench_all [options] <model.nam or directory>...\n"
    "\n"
    "Times each model (every *.nam of a directory, sorted by name) on the generic path and on the\n"
    "templated kernels capped at each instruction set this CPU runs (baseline, avx2, avx512), and prints\n"
    "a Markdown table of milliseconds per 2 s of 48 kHz audio (median of R runs) with the best speedup\n"
    "over the generic path. All variants of a model are loaded first and their runs interleaved, so\n"
    "machine noise hits them alike.\n"
    "\n"
    "options:\n"
    "  --buffer N       block size in frames, passed to Reset() (1 to 65536, default 64)\n"
    "  --runs R         timed runs per variant (1 to 1000, default 5)\n"
    "  --no-fast-tanh   use the exact tanh (the fast approximation is on by default)\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if a model could not be loaded or run (its row says why),\n"
    "2 for a bad command line.\n";

constexpr long kMaxRuns = 1000;

struct Options {
  int buffer_size = 64;
  int runs = 5;
  bool fast_tanh = true;
  std::vector<std::string> paths; // model files and directories, as given
};

Options parse_arguments(int argc, char* argv[]) {
  nam_tools::CommandLine args(kTool, kUsage, argc, argv);
  Options options;
  while (args.has_next()) {
    const std::string arg = args.next();
    if (arg == "--buffer")
      options.buffer_size = static_cast<int>(args.integer_for(arg, 1, nam_tools::kMaxBufferSize));
    else if (arg == "--runs")
      options.runs = static_cast<int>(args.integer_for(arg, 1, kMaxRuns));
    else if (arg == "--no-fast-tanh")
      options.fast_tanh = false;
    else if (nam_tools::CommandLine::is_option(arg))
      args.usage_error("unknown option " + arg);
    else
      options.paths.push_back(arg);
  }
  if (options.paths.empty())
    args.usage_error("no model file or directory given");
  return options;
}

// The table's timing columns: the generic path, then the templated kernels at each instruction set.
constexpr std::size_t kColumns = 1 + std::size(nam::kernels::kAllIsas);
using RowTimes = std::array<std::optional<double>, kColumns>;

std::size_t column_of(const Isa isa) {
  return 1 + static_cast<std::size_t>(isa);
}

/// One way of building a model. The generic path runs at this CPU's best instruction set (the LSTM's
/// generic code also uses it).
struct Variant {
  bool generic;
  Isa isa;
  std::size_t column;
};

std::vector<Variant> variants_for_this_cpu() {
  std::vector<Variant> variants{{true, nam::kernels::detected_isa(), 0}};
  for (const Isa isa : nam::kernels::kAllIsas)
    if (nam::kernels::isa_available(isa))
      variants.push_back({false, isa, column_of(isa)});
  return variants;
}

/// Sets the kernel switches for the layers built while it lives, and restores them when it goes.
class ScopedKernelSwitches {
public:
  ScopedKernelSwitches(const bool generic, const Isa cap) : _saved_cap(nam::kernels::isa_cap()) {
    nam::kernels::set_force_generic(generic);
    nam::kernels::set_isa_cap(cap);
  }
  ~ScopedKernelSwitches() {
    nam::kernels::set_force_generic(false);
    nam::kernels::set_isa_cap(_saved_cap);
  }
  ScopedKernelSwitches(const ScopedKernelSwitches&) = delete;
  ScopedKernelSwitches& operator=(const ScopedKernelSwitches&) = delete;

private:
  const Isa _saved_cap;
};

std::unique_ptr<nam::DSP> load_variant(const fs::path& path, const Variant& variant) {
  const ScopedKernelSwitches switches(variant.generic, variant.isa);
  return nam::get_dsp(path);
}

/// Milliseconds per 2 s of audio for each variant (by column). Throws if the model cannot be loaded.
RowTimes time_variants(const fs::path& path, const std::vector<Variant>& variants, const Options& options,
                       const std::vector<NAM_SAMPLE>& signal) {
  std::vector<std::unique_ptr<nam::DSP>> models;
  for (const Variant& variant : variants) {
    models.push_back(load_variant(path, variant));
    models.back()->Reset(nam_tools::benchmark_sample_rate(*models.back()), options.buffer_size);
  }
  // Every variant is the same model, so they share the channel counts and the buffers.
  std::vector<std::vector<NAM_SAMPLE>> inputs(models.front()->NumInputChannels(), signal);
  std::vector<std::vector<NAM_SAMPLE>> outputs(models.front()->NumOutputChannels(),
                                               std::vector<NAM_SAMPLE>(nam_tools::kAudioFrames));

  std::vector<std::vector<double>> times(models.size());
  for (int run = 0; run < options.runs; ++run)
    for (std::size_t v = 0; v < models.size(); ++v)
      times[v].push_back(nam_tools::time_one_run(*models[v], inputs, outputs, options.buffer_size));

  RowTimes row;
  for (std::size_t v = 0; v < variants.size(); ++v)
    row[variants[v].column] = nam_tools::median_of(times[v]);
  return row;
}

/// A row of the table: a model file, or a directory that holds none (`problem` says so).
struct TableEntry {
  fs::path path;
  std::string name;
  std::string problem;
};

/// Files as given, directories expanded to their *.nam files sorted by name.
std::vector<TableEntry> expand_paths(const std::vector<std::string>& paths) {
  std::vector<TableEntry> entries;
  for (const std::string& given : paths) {
    std::error_code error; // a path that cannot be inspected is taken as a file; loading it says why
    if (!fs::is_directory(given, error)) {
      entries.push_back({given, fs::path(given).filename().string(), ""});
      continue;
    }
    std::vector<fs::path> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(given))
      if (entry.path().extension() == ".nam" && entry.is_regular_file())
        found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    if (found.empty())
      entries.push_back({given, given, "no .nam files in this directory"});
    for (const fs::path& model : found)
      entries.push_back({model, model.filename().string(), ""});
  }
  return entries;
}

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0)
      continue;
    const std::size_t colon = line.find(':');
    const std::size_t start =
        colon == std::string::npos ? std::string::npos : line.find_first_not_of(' ', colon + 1);
    if (start != std::string::npos)
      return line.substr(start);
  }
  return "unknown (no model name in /proc/cpuinfo)";
}

std::string format_ms(const std::optional<double>& ms) {
  if (!ms)
    return "n/a";
  std::ostringstream text;
  text << std::fixed << std::setprecision(*ms < 10.0 ? 2 : 1) << *ms;
  return text.str();
}

/// "3.4x (avx512)": the generic time over the fastest templated time.
std::string format_speedup(const RowTimes& row) {
  std::optional<std::size_t> fastest;
  for (std::size_t column = 1; column < kColumns; ++column)
    if (row[column] && (!fastest || *row[column] < *row[*fastest]))
      fastest = column;
  if (!row[0] || !fastest)
    return "n/a";
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << *row[0] / std::max(*row[*fastest], 1e-9) << "x ("
       << nam::kernels::isa_name(nam::kernels::kAllIsas[*fastest - 1]) << ")";
  return text.str();
}

/// Makes text safe inside a Markdown table cell.
std::string table_cell(const std::string& text) {
  std::string cell;
  for (const char c : text) {
    if (c == '|')
      cell += "\\|";
    else
      cell += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return cell;
}

void print_header(const Options& options) {
  std::cout << "- build: " << nam_tools::build_description() << "\n";
  std::cout << "- CPU: " << cpu_model_name()
            << " (best instruction set: " << nam::kernels::isa_name(nam::kernels::detected_isa()) << ")\n";
  std::cout << "- settings: buffer " << options.buffer_size << " frames, median of " << options.runs
            << (options.runs == 1 ? " run" : " interleaved runs") << ", fast tanh "
            << (options.fast_tanh ? "on" : "off") << "\n";
  std::cout << "- times: milliseconds per 2 s of 48 kHz audio; n/a = instruction set not available here\n\n";
  std::cout << "| model | generic ms | baseline ms | avx2 ms | avx512 ms | best speedup vs generic |\n";
  std::cout << "|---|---:|---:|---:|---:|---:|\n";
}

/// Times the entry and prints its row; false when it could not be timed (the row says why).
bool print_row(const TableEntry& entry, const std::vector<Variant>& variants, const Options& options,
               const std::vector<NAM_SAMPLE>& signal) {
  std::cout << "| " << table_cell(entry.name) << " |";
  std::string problem = entry.problem;
  if (problem.empty()) {
    try {
      const RowTimes row = time_variants(entry.path, variants, options, signal);
      for (const std::optional<double>& ms : row)
        std::cout << " " << format_ms(ms) << " |";
      std::cout << " " << format_speedup(row) << " |\n";
      return true;
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  std::cout << " failed: " << table_cell(problem) << " | | | | |\n";
  return false;
}

} // namespace

int main(int argc, char* argv[]) {
  const Options options = parse_arguments(argc, argv);
  try {
    if (options.fast_tanh)
      nam::activations::Activation::enable_fast_tanh();
    else
      nam::activations::Activation::disable_fast_tanh();

    const std::vector<Variant> variants = variants_for_this_cpu();
    const std::vector<NAM_SAMPLE> signal = nam_tools::make_input_signal(1.0);
    print_header(options);
    int status = 0;
    for (const TableEntry& entry : expand_paths(options.paths)) {
      if (!print_row(entry, variants, options, signal))
        status = 1;
      std::cout.flush(); // each row as soon as it is measured
    }
    return status;
  } catch (const std::exception& e) {
    nam_tools::fail(kTool, e.what());
  }
}
