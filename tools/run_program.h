#pragma once
// Runs another program and returns what it printed, for tools that time an external build side by side
// with ours (bench_all --external).

#include <string>
#include <vector>

namespace nam_tools {

/// Runs `program` with `arguments`, each passed as one argv element without a shell (so spaces and quotes
/// in them are safe), and returns its standard output; its standard error is discarded and its standard
/// input is empty. A program without a '/' is looked up in PATH. Throws std::runtime_error naming the
/// program when it cannot be started, exits with a non-zero status or is killed by a signal.
std::string run_program(const std::string& program, const std::vector<std::string>& arguments);

} // namespace nam_tools
