// bench_all: the speed table of docs/benchmarks.md. Times every given model on the generic path and on the
// templated kernels at each instruction set this CPU runs, and prints one Markdown table.

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "NAM/activations.h"
#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/isa.h"
#include "NAM/kernels/registry.h"
#include "cli.h"
#include "run_program.h"
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
    "  --external LABEL=PROGRAM\n"
    "                   also time another build, such as the original library's benchmodel: every run\n"
    "                   starts `PROGRAM <model path>` (no shell) and takes the last line of its output\n"
    "                   that reads like `123.4ms` as its time. Adds the columns \"LABEL ms\" and\n"
    "                   \"vs LABEL\" (its time over ours at the instruction set a default run selects).\n"
    "                   The program chooses its own settings (the original's benchmodel: 64-frame\n"
    "                   buffers, fast tanh). Repeatable.\n"
    "  -h, --help       print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if a model could not be loaded or run, or an external program failed on\n"
    "it (its row says why), 2 for a bad command line.\n";

constexpr long kMaxRuns = 1000;

/// Another build's benchmark program, timed beside ours (--external).
struct External {
  std::string label;
  std::string program;
};

struct Options {
  int buffer_size = 64;
  int runs = 5;
  bool fast_tanh = true;
  std::vector<External> externals;
  std::vector<std::string> paths; // model files and directories, as given
};

/// The LABEL=PROGRAM after --external.
External parse_external(nam_tools::CommandLine& args) {
#ifdef _WIN32
  args.usage_error("--external is not supported on this platform");
#endif
  const std::string text = args.value_for("--external");
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
    args.usage_error("invalid --external value '" + text + "': expected LABEL=PROGRAM");
  return {text.substr(0, equals), text.substr(equals + 1)};
}

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
    else if (arg == "--external")
      options.externals.push_back(parse_external(args));
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

/// The time an external program reports: its last line that is just a number and "ms" (the original's
/// benchmodel prints the whole milliseconds first, then the fractional ones).
std::optional<double> reported_milliseconds(const std::string& output) {
  static const std::regex time_line(R"(([0-9]+(\.[0-9]+)?)ms\r?)");
  std::optional<double> ms;
  std::istringstream lines(output);
  std::string line;
  std::smatch match;
  while (std::getline(lines, line))
    if (std::regex_match(line, match, time_line))
      ms = std::strtod(match[1].str().c_str(), nullptr);
  return ms;
}

/// One run of an external program on the model; throws if it fails or reports no time.
double time_external(const External& external, const fs::path& model) {
  const std::optional<double> ms =
      reported_milliseconds(nam_tools::run_program(external.program, {model.string()}));
  if (!ms)
    throw std::runtime_error(external.program + " printed no time line (such as 123.4ms)");
  return *ms;
}

/// An external program's median time on a model, or why it has none.
struct ExternalTime {
  double ms = 0.0;
  std::string problem; // empty when ms holds the time
};

/// Milliseconds per 2 s of audio for each of our variants (by column) and each external program.
struct RowTimes {
  std::array<std::optional<double>, kColumns> ours;
  std::vector<ExternalTime> externals;
};

/// Times the model; throws if we cannot load it (an external program's failure goes into its cell).
RowTimes time_row(const fs::path& path, const std::vector<Variant>& variants, const Options& options,
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
  std::vector<std::vector<double>> external_times(options.externals.size());
  RowTimes row;
  row.externals.resize(options.externals.size());
  for (int run = 0; run < options.runs; ++run) {
    for (std::size_t v = 0; v < models.size(); ++v)
      times[v].push_back(nam_tools::time_one_run(*models[v], inputs, outputs, options.buffer_size));
    for (std::size_t e = 0; e < options.externals.size(); ++e) {
      if (!row.externals[e].problem.empty())
        continue; // it failed on this model once; it would again
      try {
        external_times[e].push_back(time_external(options.externals[e], path));
      } catch (const std::exception& error) {
        row.externals[e].problem = error.what();
      }
    }
  }

  for (std::size_t v = 0; v < variants.size(); ++v)
    row.ours[variants[v].column] = nam_tools::median_of(times[v]);
  for (std::size_t e = 0; e < options.externals.size(); ++e)
    if (row.externals[e].problem.empty())
      row.externals[e].ms = nam_tools::median_of(external_times[e]);
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

/// The column of our fastest templated time, if any was measured.
std::optional<std::size_t> fastest_templated(const RowTimes& row) {
  std::optional<std::size_t> fastest;
  for (std::size_t column = 1; column < kColumns; ++column)
    if (row.ours[column] && (!fastest || *row.ours[column] < *row.ours[*fastest]))
      fastest = column;
  return fastest;
}

/// `ms` over our time in `column`, with `precision` decimals and an "x".
std::string format_ratio(const double ms, const RowTimes& row, const std::optional<std::size_t> column,
                         const int precision) {
  if (!column || !row.ours[*column])
    return "n/a";
  std::ostringstream text;
  text << std::fixed << std::setprecision(precision) << ms / std::max(*row.ours[*column], 1e-9) << "x";
  return text.str();
}

/// "3.4x (avx512)": the generic time over the fastest templated time.
std::string format_speedup(const RowTimes& row) {
  const std::optional<std::size_t> fastest = fastest_templated(row);
  if (!row.ours[0] || !fastest)
    return "n/a";
  return format_ratio(*row.ours[0], row, fastest, 1) + " (" +
         nam::kernels::isa_name(nam::kernels::kAllIsas[*fastest - 1]) + ")";
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

/// An external program's time cell, or why it has none.
std::string format_external(const ExternalTime& external) {
  return external.problem.empty() ? format_ms(external.ms) : "failed: " + table_cell(external.problem);
}

/// "2.31x": an external program's time over ours at the instruction set a default run selects (what
/// benchmodel and a plugin run), not our fastest column, so that the ratio is what users get.
std::string format_external_ratio(const ExternalTime& external, const RowTimes& row) {
  return external.problem.empty() ? format_ratio(external.ms, row, column_of(nam::kernels::selected_isa()), 2)
                                  : "n/a";
}

void print_header(const Options& options) {
  std::cout << "- build: " << nam_tools::build_description() << "\n";
  std::cout << "- CPU: " << cpu_model_name()
            << " (best instruction set: " << nam::kernels::isa_name(nam::kernels::detected_isa()) << ")\n";
  std::cout << "- settings: buffer " << options.buffer_size << " frames, median of " << options.runs
            << (options.runs == 1 ? " run" : " interleaved runs") << ", fast tanh "
            << (options.fast_tanh ? "on" : "off") << "\n";
  std::cout << "- times: milliseconds per 2 s of 48 kHz audio; n/a = instruction set not available here\n";
  std::string columns =
      "| model | generic ms | baseline ms | avx2 ms | avx512 ms | best speedup vs generic |";
  std::string alignment = "|---|---:|---:|---:|---:|---:|";
  for (const External& external : options.externals) {
    std::cout << "- external " << external.label << ": " << external.program << " <model>\n";
    columns += " " + table_cell(external.label) + " ms |";
    alignment += "---:|";
  }
  if (!options.externals.empty())
    std::cout
        << "- externals run once per run, after ours, and time themselves (their last line like 123.4ms);"
           " vs LABEL = their time / ours at the instruction set a default run selects ("
        << nam::kernels::isa_name(nam::kernels::selected_isa()) << ")\n";
  for (const External& external : options.externals) {
    columns += " vs " + table_cell(external.label) + " |";
    alignment += "---:|";
  }
  std::cout << "\n" << columns << "\n" << alignment << "\n";
}

/// Times the entry and prints its row; false when it could not be timed or an external program failed on it
/// (the row says why).
bool print_row(const TableEntry& entry, const std::vector<Variant>& variants, const Options& options,
               const std::vector<NAM_SAMPLE>& signal) {
  std::cout << "| " << table_cell(entry.name) << " |";
  std::string problem = entry.problem;
  if (problem.empty()) {
    try {
      const RowTimes row = time_row(entry.path, variants, options, signal);
      for (const std::optional<double>& ms : row.ours)
        std::cout << " " << format_ms(ms) << " |";
      std::cout << " " << format_speedup(row) << " |";
      for (const ExternalTime& external : row.externals)
        std::cout << " " << format_external(external) << " |";
      for (const ExternalTime& external : row.externals)
        std::cout << " " << format_external_ratio(external, row) << " |";
      std::cout << "\n";
      return std::all_of(row.externals.begin(), row.externals.end(),
                         [](const ExternalTime& external) { return external.problem.empty(); });
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  std::cout << " failed: " << table_cell(problem) << " |";
  // Empty cells up to the row's end: the rest of ours, the speedup, and each external's two.
  for (std::size_t cell = 1; cell < kColumns + 1 + 2 * options.externals.size(); ++cell)
    std::cout << " |";
  std::cout << "\n";
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
