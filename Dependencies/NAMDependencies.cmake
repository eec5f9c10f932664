# Finds the library's two dependencies. Both come from Debian packages (libeigen3-dev,
# nlohmann-json3-dev; Dependencies/install_dependencies.sh installs them) or from any CMake package
# configuration on CMAKE_PREFIX_PATH. A build that vendors them can set NAM_EIGEN_INCLUDE_DIR and
# NAM_JSON_INCLUDE_DIR instead (see Dependencies/README.md).

set(NAM_EIGEN_INCLUDE_DIR "" CACHE PATH "Use the Eigen headers in this directory instead of find_package(Eigen3)")
set(NAM_JSON_INCLUDE_DIR "" CACHE PATH
    "Use nlohmann/json.hpp (or json.hpp) in this directory instead of find_package(nlohmann_json)")

if(NAM_EIGEN_INCLUDE_DIR)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${NAM_EIGEN_INCLUDE_DIR}")
elseif(NOT TARGET Eigen3::Eigen)
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
endif()

if(NAM_JSON_INCLUDE_DIR)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${NAM_JSON_INCLUDE_DIR}")
elseif(NOT TARGET nlohmann_json::nlohmann_json)
  find_package(nlohmann_json 3.9 REQUIRED)
endif()
