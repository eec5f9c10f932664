#include "builtin_architectures.h"

namespace nam {
namespace lstm {
void register_architecture(ConfigParserRegistry&) {} // not implemented yet
} // namespace lstm
} // namespace nam
