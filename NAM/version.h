#pragma once
/// \file version.h
/// \brief Version of this DSP library.
///
/// The numbers track the NeuralAmpModelerCore release whose public API and file format this library
/// reproduces, so code that checks them keeps working when it switches to us. CMake reads the project
/// version from these three lines.

/// \def NEURAL_AMP_MODELER_DSP_VERSION_MAJOR
/// \brief Major version.
/// \def NEURAL_AMP_MODELER_DSP_VERSION_MINOR
/// \brief Minor version.
/// \def NEURAL_AMP_MODELER_DSP_VERSION_PATCH
/// \brief Patch version.

#define NEURAL_AMP_MODELER_DSP_VERSION_MAJOR 0
#define NEURAL_AMP_MODELER_DSP_VERSION_MINOR 5
#define NEURAL_AMP_MODELER_DSP_VERSION_PATCH 5
