#include "../builtin_architectures.h"

namespace nam {
namespace wavenet {
void register_architecture(ConfigParserRegistry&) {} // not implemented yet
} // namespace wavenet
} // namespace nam
