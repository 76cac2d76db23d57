// libFuzzer target for DNS-over-HTTPS requests (resolver/net/doh_message.h) and the
// EDNS padding of encrypted replies (resolver/wire/edns_padding.h): the first code
// that reads a DoH client's request. Build with -DRESOLVER_FUZZ=ON and clang (see
// tests/fuzz/CMakeLists.txt); input layout and properties in doh_request_check.h.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/doh_request_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_doh_request(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "DoH property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
