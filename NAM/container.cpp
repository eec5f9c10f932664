#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "builtin_architectures.h"
#include "config_reader.h"
#include "container.h"
#include "get_dsp.h"

namespace nam {
namespace container {

namespace {
constexpr size_t kNone = std::numeric_limits<size_t>::max();
} // namespace

ContainerModel::ContainerModel(std::vector<Submodel> submodels, const double expected_sample_rate) :
    DSP(1, 1, expected_sample_rate),
    _submodels(std::move(submodels)),
    _in_use(kNone) {
  if (_submodels.empty())
    throw std::runtime_error("ContainerModel: no submodels provided");
  for (size_t i = 1; i < _submodels.size(); ++i)
    if (!(_submodels[i].max_value > _submodels[i - 1].max_value)) {
      std::ostringstream message;
      message << "ContainerModel: submodels must be sorted by ascending max_value (submodel " << i << " has "
              << _submodels[i].max_value << " after " << _submodels[i - 1].max_value << ")";
      throw std::runtime_error(message.str());
    }
  if (!(_submodels.back().max_value >= 1.0)) {
    std::ostringstream message;
    message << "ContainerModel: last submodel max_value must be >= 1.0 (got " << _submodels.back().max_value
            << ")";
    throw std::runtime_error(message.str());
  }
  for (size_t i = 0; i < _submodels.size(); ++i) {
    const double rate = _submodels[i].model->GetExpectedSampleRate();
    if (rate != expected_sample_rate && rate != NAM_UNKNOWN_EXPECTED_SAMPLE_RATE &&
        expected_sample_rate != NAM_UNKNOWN_EXPECTED_SAMPLE_RATE) {
      std::ostringstream message;
      message << "ContainerModel: submodel sample rate mismatch (expected " << expected_sample_rate
              << ", got " << rate << ") in submodel " << i;
      throw std::runtime_error(message.str());
    }
  }
  for (size_t i = 0; i < _submodels.size(); ++i) {
    const DSP& model = *_submodels[i].model;
    if (model.NumInputChannels() != 1 || model.NumOutputChannels() != 1)
      throw std::runtime_error("ContainerModel: submodel " + std::to_string(i) +
                               " must have 1 input and 1 output channel like the container, got " +
                               std::to_string(model.NumInputChannels()) + " in and " +
                               std::to_string(model.NumOutputChannels()) + " out");
  }
  _active_index.store(_submodels.size() - 1);
}

ContainerModel::~ContainerModel() = default;

void ContainerModel::process(NAM_SAMPLE** input, NAM_SAMPLE** output, const int num_frames) {
  // Announce the submodel before using it, then check it is still the published one: a SetSlimmableSize that
  // is about to reset a submodel either sees the announcement (and waits) or has already published another
  // index, which the check then picks up. Sequentially consistent order makes the two sides agree.
  size_t index = _active_index.load();
  for (;;) {
    _in_use.store(index);
    const size_t published = _active_index.load();
    if (published == index)
      break;
    index = published;
  }
  _submodels[index].model->process(input, output, num_frames);
  _in_use.store(kNone);
}

void ContainerModel::wait_until_unused(const size_t index) const {
  while (_in_use.load() == index)
    std::this_thread::yield();
}

void ContainerModel::prewarm() {
  const std::lock_guard<std::mutex> lock(_selection_mutex);
  _submodels[GetActiveIndex()].model->prewarm();
}

void ContainerModel::Reset(const double sampleRate, const int maxBufferSize) {
  const std::lock_guard<std::mutex> lock(_selection_mutex);
  // The container's own bookkeeping only: the selected submodel prewarms itself in its Reset.
  mExternalSampleRate = sampleRate;
  mHaveExternalSampleRate = true;
  SetMaxBufferSize(maxBufferSize);
  _submodels[GetActiveIndex()].model->Reset(sampleRate, maxBufferSize);
}

void ContainerModel::SetPrewarmOnReset(const bool prewarmOnReset) {
  DSP::SetPrewarmOnReset(prewarmOnReset);
  for (auto& submodel : _submodels)
    submodel.model->SetPrewarmOnReset(prewarmOnReset);
}

int ContainerModel::GetPrewarmSamples() {
  return _submodels[GetActiveIndex()].model->GetPrewarmSamples();
}

size_t ContainerModel::index_for_size(const double val) const {
  for (size_t i = 0; i < _submodels.size(); ++i)
    if (val < _submodels[i].max_value)
      return i;
  return _submodels.size() - 1; // at or above every max_value, or NaN
}

void ContainerModel::SetSlimmableSize(const double val) {
  const size_t index = index_for_size(val);
  if (index == GetActiveIndex())
    return;
  const std::lock_guard<std::mutex> lock(_selection_mutex);
  if (index == GetActiveIndex())
    return; // another thread selected it meanwhile
  // The audio thread may still be finishing a block of this submodel from before it was last deselected.
  wait_until_unused(index);
  const double rate = mHaveExternalSampleRate ? mExternalSampleRate : mExpectedSampleRate;
  // Before the first Reset, use the size prewarm() would adopt rather than an empty one.
  const int buffer_size = GetMaxBufferSize() > 0 ? GetMaxBufferSize() : NAM_DEFAULT_MAX_BUFFER_SIZE;
  _submodels[index].model->Reset(rate, buffer_size);
  _active_index.store(index);
}

std::vector<double> ContainerModel::GetSlimmableSizeBreakpoints() const {
  std::vector<double> breakpoints;
  for (size_t i = 0; i + 1 < _submodels.size(); ++i)
    breakpoints.push_back(_submodels[i].max_value);
  return breakpoints;
}

// Config =================================================================================================

std::unique_ptr<DSP> ContainerConfig::create(std::vector<float> /*weights*/, double sampleRate) {
  const ConfigReader reader(raw_config, "config");
  const nlohmann::json* list = reader.find("submodels");
  if (list == nullptr || !list->is_array() || list->empty())
    reader.fail("submodels", "SlimmableContainer: 'submodels' must be a non-empty array, got " +
                                 (list == nullptr ? std::string("nothing") : describe_json_value(*list)));
  std::vector<Submodel> submodels;
  submodels.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const ConfigReader entry((*list)[i], reader.path_of("submodels") + "[" + std::to_string(i) + "]");
    const double max_value = entry.get_number("max_value");
    submodels.push_back({max_value, load_nested_model(entry.require("model"), entry.path_of("model"))});
  }
  try {
    return std::make_unique<ContainerModel>(std::move(submodels), sampleRate);
  } catch (const std::runtime_error& e) {
    reader.fail("submodels", e.what());
  }
}

std::unique_ptr<ModelConfig> create_config(const nlohmann::json& config, double sampleRate) {
  const ConfigReader reader(config, "config"); // a container's config must be an object
  auto parsed = std::make_unique<ContainerConfig>();
  parsed->raw_config = reader.json();
  parsed->sample_rate = sampleRate;
  return parsed;
}

void register_architecture(ConfigParserRegistry& registry) {
  registry.registerParser("SlimmableContainer", create_config);
}

} // namespace container
} // namespace nam
