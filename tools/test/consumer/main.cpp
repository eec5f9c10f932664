// Loads the model given on the command line and processes one block: proof that NAM::nam brings its
// include directories and dependencies along.
#include <cmath>
#include <iostream>
#include <vector>

#include "NAM/get_dsp.h"
#include "NAM/version.h"

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: consumer model.nam\n";
    return 2;
  }
  try {
    auto model = nam::get_dsp(std::filesystem::path(argv[1]));
    model->Reset(48000, 64);
    std::vector<NAM_SAMPLE> in(64, 0.1), out(64);
    NAM_SAMPLE* in_ptr = in.data();
    NAM_SAMPLE* out_ptr = out.data();
    model->process(&in_ptr, &out_ptr, 64);
    if (!std::isfinite(out[63]))
      return 1;
    std::cout << "consumer: processed 64 frames with NAM " << NEURAL_AMP_MODELER_DSP_VERSION_MAJOR << "."
              << NEURAL_AMP_MODELER_DSP_VERSION_MINOR << "." << NEURAL_AMP_MODELER_DSP_VERSION_PATCH << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
}
