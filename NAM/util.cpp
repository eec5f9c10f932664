#include <algorithm>
#include <cctype>

#include "util.h"

namespace nam {
namespace util {
std::string lowercase(const std::string& s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}
} // namespace util
} // namespace nam
