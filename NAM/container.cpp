#include "builtin_architectures.h"

namespace nam {
namespace container {
void register_architecture(ConfigParserRegistry&) {} // not implemented yet
} // namespace container
} // namespace nam
