// Stands in for the original library's benchmodel in bench_all's --external tests: prints its output format
// with a fixed time, but only when it gets exactly one argument naming a readable file (as bench_all must
// pass the model path, even one with spaces).

#include <fstream>
#include <iostream>

int main(int argc, char* argv[]) {
  if (argc != 2 || !std::ifstream(argv[1])) {
    std::cerr << "usage: fake_benchmodel <existing model file>\n";
    return 1;
  }
  std::cout << "Running benchmark\nFinished\n12ms\n12.5ms\n";
  return 0;
}
