#pragma once
/// \file builtin_architectures.h
/// \brief The registration functions of the architectures this library ships.
///
/// Each architecture's own source file defines how it registers itself; the registry calls them all when
/// it is first used. Calling them from the registry (rather than from static objects in each file) keeps
/// every architecture available when the library is linked as a static archive, where the linker would
/// drop object files that nothing references.

namespace nam {
class ConfigParserRegistry;

namespace container {
/// \brief Registers "SlimmableContainer".
void register_architecture(ConfigParserRegistry& registry);
} // namespace container
namespace convnet {
/// \brief Registers "ConvNet".
void register_architecture(ConfigParserRegistry& registry);
} // namespace convnet
namespace linear {
/// \brief Registers "Linear".
void register_architecture(ConfigParserRegistry& registry);
} // namespace linear
namespace lstm {
/// \brief Registers "LSTM".
void register_architecture(ConfigParserRegistry& registry);
} // namespace lstm
namespace wavenet {
/// \brief Registers "WaveNet".
void register_architecture(ConfigParserRegistry& registry);
} // namespace wavenet

} // namespace nam
