// libFuzzer target for the RFC 5011 state file parser, parse_trust_point_state
// (dnssec/rfc5011_state.h). Build with -DRESOLVER_FUZZ=ON and clang
// (tests/fuzz/CMakeLists.txt); run as:
//   build-fuzz/tests/fuzz/trust_anchor_state_fuzz -max_total_time=120 CORPUS_DIR
// seeded with a state file the daemon wrote.
//
// The properties:
//  - bad input is a std::runtime_error, never another exception, a crash or a hang;
//  - accepted input serialises to text that parses back and serialises to the same
//    text again (what the daemon writes after reading a file is a fixed point).
//
// check_trust_anchor_state() is shared with the deterministic replay in
// tests/unit/trust_anchor_state_fuzz_corpus_test.cc, which includes this file with
// RSV_FUZZ_PROPERTY_ONLY defined (no LLVMFuzzerTestOneInput there).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "dnssec/rfc5011_state.h"

namespace rsv::fuzz {

// "" when the properties hold, else what broke. *accepted: whether the text parsed.
inline std::string check_trust_anchor_state(const uint8_t *data, size_t size, bool *accepted = nullptr) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  std::vector<TrustPoint> points;
  try {
    points = parse_trust_point_state(text);
  } catch (const std::runtime_error &) {
    if (accepted) *accepted = false;
    return "";
  } catch (const std::exception &e) {
    return std::string("parse_trust_point_state threw ") + typeid(e).name() + ": " + e.what();
  }
  if (accepted) *accepted = true;
  std::string written;
  try {
    written = serialize_trust_point_state(points, 0);
  } catch (const std::exception &e) {
    return std::string("serialize_trust_point_state threw ") + typeid(e).name() + ": " + e.what();
  }
  try {
    const std::string again = serialize_trust_point_state(parse_trust_point_state(written), 0);
    if (again != written) return "the written state reads back differently\n--- written:\n" + written;
  } catch (const std::exception &e) {
    return std::string("the written state does not parse: ") + e.what() + "\n--- written:\n" + written;
  }
  return "";
}

}  // namespace rsv::fuzz

#ifndef RSV_FUZZ_PROPERTY_ONLY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_trust_anchor_state(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "trust anchor state property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
#endif
