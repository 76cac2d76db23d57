#include "cache/random.h"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace rsv {

uint32_t SystemRandom::next_u32() {
  if (available_ == 0) {
    size_t filled = 0;
    auto *bytes = reinterpret_cast<unsigned char *>(buffer_);
    while (filled < sizeof buffer_) {
      ssize_t n = getrandom(bytes + filled, sizeof buffer_ - filled, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        // Without a CSPRNG, IDs and ports would be guessable: refuse to go on.
        throw std::runtime_error("getrandom failed");
      }
      filled += static_cast<size_t>(n);
    }
    available_ = sizeof buffer_ / sizeof buffer_[0];
  }
  return buffer_[--available_];
}

}  // namespace rsv
