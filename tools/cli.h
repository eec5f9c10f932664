#pragma once
// Small helpers shared by the command-line tools: strict number parsing, walking argv, the options of the
// tools that run a model, and uniform error exits.
//
// Exit statuses: 0 success, 1 the work failed (unreadable model or audio file, unsuitable model),
// 2 the command line is wrong.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "NAM/activations.h"
#include "NAM/dsp.h"
#include "NAM/get_dsp.h"
#include "NAM/kernels/isa.h"
#include "NAM/kernels/registry.h"
#include "NAM/slimmable.h"

namespace nam_tools {

/// Parses a whole decimal integer in [lo, hi]; nullopt for anything else ("12x", "", overflow).
inline std::optional<long> parse_integer(const std::string& text, long lo, long hi) {
  if (text.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || value < lo || value > hi)
    return std::nullopt;
  return value;
}

/// Parses a whole finite number in [lo, hi]; nullopt for anything else.
inline std::optional<double> parse_number(const std::string& text, double lo, double hi) {
  if (text.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !(value >= lo && value <= hi))
    return std::nullopt;
  return value;
}

/// Prints "<tool>: <message>" and the usage text to stderr and exits with status 2.
[[noreturn]] inline void fail_usage(const char* tool, const std::string& message, const char* usage) {
  std::cerr << tool << ": " << message << "\n\n" << usage;
  std::exit(2);
}

/// Prints "<tool>: error: <message>" to stderr and exits with status 1.
[[noreturn]] inline void fail(const char* tool, const std::string& message) {
  std::cerr << tool << ": error: " << message << "\n";
  std::exit(1);
}

/// Hands out a tool's arguments in order. `--help`/`-h` anywhere prints the usage to stdout and exits 0;
/// every misuse ends in `fail_usage`.
class CommandLine {
public:
  CommandLine(const char* tool, const char* usage, int argc, char* argv[]) :
      _tool(tool),
      _usage(usage),
      _argc(argc),
      _argv(argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        std::cout << usage;
        std::exit(0);
      }
    }
  }

  bool has_next() const { return _next < _argc; }
  std::string next() { return _argv[_next++]; }

  /// True for arguments that look like options ("-x", "--xyz"), which the tools must recognise.
  static bool is_option(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

  /// The integer after option `flag`, which must lie in [lo, hi].
  long integer_for(const std::string& flag, long lo, long hi) {
    const std::string text = value_for(flag);
    const std::optional<long> value = parse_integer(text, lo, hi);
    if (!value)
      usage_error("invalid " + flag + " value '" + text + "': expected a whole number from " +
                  std::to_string(lo) + " to " + std::to_string(hi));
    return *value;
  }

  /// The number after option `flag`, which must lie in [lo, hi].
  double number_for(const std::string& flag, double lo, double hi) {
    const std::string text = value_for(flag);
    const std::optional<double> value = parse_number(text, lo, hi);
    if (!value)
      usage_error("invalid " + flag + " value '" + text + "': expected a number from " + format_number(lo) +
                  " to " + format_number(hi));
    return *value;
  }

  /// The instruction-set name after option `flag` (as NAM_ISA spells it).
  nam::kernels::Isa isa_for(const std::string& flag) {
    const std::string text = value_for(flag);
    const std::optional<nam::kernels::Isa> isa = nam::kernels::parse_isa(text);
    if (!isa)
      usage_error("invalid " + flag + " value '" + text + "': expected baseline, avx2 or avx512");
    return *isa;
  }

  [[noreturn]] void usage_error(const std::string& message) const { fail_usage(_tool, message, _usage); }

  /// The argument after option `flag`; a usage error when there is none.
  std::string value_for(const std::string& flag) {
    if (!has_next())
      usage_error("option " + flag + " needs a value");
    return next();
  }

private:
  static std::string format_number(double value) {
    std::string text = std::to_string(value);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.')
      text.pop_back();
    return text;
  }

  const char* _tool;
  const char* _usage;
  int _argc;
  char** _argv;
  int _next = 1;
};

/// Largest `--buffer` the tools accept.
constexpr long kMaxBufferSize = 65536;

/// Options of the tools that run a model (benchmodel, render). The fast tanh defaults as in the original's
/// tools: on in benchmodel, off (exact tanh) in render.
struct RunOptions {
  explicit RunOptions(const bool fast_tanh_by_default) : fast_tanh(fast_tanh_by_default) {}

  int buffer_size = 64;
  bool fast_tanh;
  std::optional<double> slim;           // slimmable size in [0, 1], when requested
  bool generic = false;                 // run the generic path instead of the templated kernels
  std::optional<nam::kernels::Isa> isa; // cap on the kernels' instruction set

  /// Usage lines describing these options.
  std::string help() const {
    return std::string("  --buffer N       block size in frames, passed to Reset() (1 to 65536, default 64;\n"
                       "                   --block N is the same)\n") +
           (fast_tanh ? "  --no-fast-tanh   use the exact tanh (the fast approximation is on by default)\n"
                      : "  --fast-tanh      use the fast tanh approximation (the exact tanh by default)\n") +
           "  --slim X         run a slimmable model at size X (0 = smallest, 1 = full)\n"
           "  --generic        run the generic code path instead of the templated kernels\n"
           "  --isa LEVEL      highest instruction set the kernels may use: baseline, avx2 or avx512\n"
           "                   (default: the best this CPU has; the environment variable NAM_ISA does the "
           "same)\n";
  }

  /// If `arg` is one of these options, reads it (and its value from `args`) and returns true.
  bool take(const std::string& arg, CommandLine& args) {
    if (arg == "--buffer" || arg == "--block")
      buffer_size = static_cast<int>(args.integer_for(arg, 1, kMaxBufferSize));
    else if (arg == "--no-fast-tanh" || arg == "--fast-tanh")
      fast_tanh = arg == "--fast-tanh";
    else if (arg == "--slim")
      slim = args.number_for(arg, 0.0, 1.0);
    else if (arg == "--generic")
      generic = true;
    else if (arg == "--isa")
      isa = args.isa_for(arg);
    else
      return false;
    return true;
  }
};

/// Sets the fast-tanh switch, loads the model and applies `--slim`. On failure prints the reason and exits
/// with status 1.
inline std::unique_ptr<nam::DSP> load_model_or_exit(const char* tool, const std::string& path,
                                                    const RunOptions& options, nam::dspData& contents) {
  if (options.fast_tanh)
    nam::activations::Activation::enable_fast_tanh();
  else
    nam::activations::Activation::disable_fast_tanh();
  // Layers pick their kernels while the model is built, so both switches come first.
  nam::kernels::set_force_generic(options.generic);
  if (options.isa)
    nam::kernels::set_isa_cap(*options.isa);
  try {
    std::unique_ptr<nam::DSP> model = nam::get_dsp(std::filesystem::path(path), contents);
    if (options.slim) {
      auto* slimmable = dynamic_cast<nam::SlimmableModel*>(model.get());
      if (slimmable == nullptr)
        fail(tool, "--slim needs a slimmable model, but " + path + " (" + contents.architecture +
                       ") is not slimmable");
      slimmable->SetSlimmableSize(*options.slim);
    }
    return model;
  } catch (const std::exception& e) {
    fail(tool, e.what());
  }
}

/// How the model's convolutions run, for the tools' reports: "templated kernels, avx2 (this CPU's best:
/// avx512)", or "generic path (--generic)".
inline std::string kernel_description() {
  if (nam::kernels::force_generic())
    return "generic path (--generic)";
  return std::string("templated kernels, ") + nam::kernels::isa_name(nam::kernels::selected_isa()) +
         " (this CPU's best: " + nam::kernels::isa_name(nam::kernels::detected_isa()) + ")";
}

} // namespace nam_tools
