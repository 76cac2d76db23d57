// libFuzzer target for the framing of client TCP connections (resolver/net/tcp_framing.h),
// the first code that touches a TCP client's bytes. Build with -DRESOLVER_FUZZ=ON and
// clang (see tests/fuzz/CMakeLists.txt); run as:
//   build-fuzz/tests/fuzz/tcp_framing_fuzz -max_len=140000 -max_total_time=120 \
//       tests/fuzz/corpus/tcp_framing_fuzz
// (copy the seed corpus first if new inputs should not land in the source tree).
//
// Besides "no crash, no sanitizer report", the reader must agree with a plain reading
// of the whole stream however it is split and consumed (tests/fuzz/tcp_framing_check.h).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/tcp_framing_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_tcp_framing(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "TCP framing property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
