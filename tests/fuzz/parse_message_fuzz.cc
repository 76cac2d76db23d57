// libFuzzer target for the message parser, the first code that touches bytes from
// the network. Build with -DRESOLVER_FUZZ=ON and clang (see tests/fuzz/CMakeLists.txt);
// run as:  build-fuzz/tests/fuzz/parse_message_fuzz -max_total_time=120 CORPUS_DIR
// with a copy of tests/fuzz/corpus/parse_message_fuzz/ (real replies of a signed
// hierarchy, by make_corpus.sh) as CORPUS_DIR; scripts/fuzz.sh does both.
//
// Besides "no crash, no sanitizer report", every accepted input must survive
// encode_message and parse again unchanged (tests/fuzz/round_trip.h).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_round_trip(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "round trip property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
