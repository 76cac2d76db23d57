// libFuzzer target for the cache snapshot loader (cache/snapshot.h), which reads a
// file from disk at every start. Build with -DRESOLVER_FUZZ=ON and clang (see
// tests/fuzz/CMakeLists.txt); run as:
//   build-fuzz/tests/fuzz/cache_snapshot_fuzz -max_total_time=120 CORPUS_DIR
// seeded with tests/fuzz/corpus/cache_snapshot_fuzz/ (a small valid snapshot behind
// a mode octet). The properties are in tests/fuzz/snapshot_check.h.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/snapshot_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_snapshot_input(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "cache snapshot property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
