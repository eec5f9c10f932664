#include "builtin_architectures.h"

namespace nam {
namespace convnet {
void register_architecture(ConfigParserRegistry&) {} // not implemented yet
} // namespace convnet
} // namespace nam
