// libFuzzer target for the configuration parser, parse_config_text (the YAML of
// conf/resolver.yaml). Build with -DRESOLVER_FUZZ=ON and clang (tests/fuzz/CMakeLists.txt);
// run as:  build-fuzz/tests/fuzz/config_fuzz -max_total_time=120 CORPUS_DIR
// with a copy of tests/fuzz/corpus/config_fuzz/ (the shipped conf/*.yaml and the
// reproducers of what it found) as CORPUS_DIR; scripts/fuzz.sh does both.
//
// The properties (config/config.h):
//  - bad input is a ConfigError, never another exception, a crash or a hang;
//  - a ConfigError names the source, then a line of the input: "fuzz.yaml:LINE: ...";
//  - an accepted configuration dumps (dump_config) to YAML that parses back to an
//    equal configuration and dumps again to the same text (what --check-config shows
//    is what the daemon would run with).
//    Known exception, not checked: text that is not valid UTF-8. yaml-cpp's parser
//    passes stray octets through into strings (a path "/etc/r\xA0.ds" is accepted),
//    but its emitter writes each as U+FFFD, so dump_config shows a different path
//    than the one in use. Found by this target; see kCheckRoundTripOfInvalidUtf8.
//
// check_config_text() is shared with the deterministic replay in
// tests/unit/config_fuzz_corpus_test.cc, which includes this file with
// RSV_FUZZ_PROPERTY_ONLY defined (no LLVMFuzzerTestOneInput there).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "resolver/config/config.h"

namespace rsv::fuzz {

inline constexpr const char *kConfigFuzzSource = "fuzz.yaml";
// Set to true once dump_config keeps (or parse_config_text rejects) octets that are
// not UTF-8; until then the round trip is only checked for UTF-8 text.
inline constexpr bool kCheckRoundTripOfInvalidUtf8 = true;

// RFC 3629 UTF-8: no stray continuation octets, overlong forms, surrogates or code
// points above U+10FFFF.
inline bool valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += 1 + extra;
  }
  return true;
}

// Returns "" when the properties hold, else what broke. *accepted (when given) says
// whether the text was a valid configuration.
inline std::string check_config_text(const uint8_t *data, size_t size, bool *accepted = nullptr) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  if (accepted) *accepted = false;
  Config config;
  try {
    config = parse_config_text(text, kConfigFuzzSource);
  } catch (const ConfigError &e) {
    // "fuzz.yaml:LINE: reason", LINE from 1 to one past the last line of the text.
    const std::string message = e.what();
    const std::string prefix = std::string(kConfigFuzzSource) + ":";
    if (message.compare(0, prefix.size(), prefix) != 0) return "ConfigError without the source name: " + message;
    size_t pos = prefix.size();
    uint64_t line = 0;
    while (pos < message.size() && message[pos] >= '0' && message[pos] <= '9' && line < 1000000000)
      line = line * 10 + static_cast<uint64_t>(message[pos++] - '0');
    if (pos == prefix.size() || pos + 2 > message.size() || message.compare(pos, 2, ": ") != 0)
      return "ConfigError without a line: " + message;
    // A text of N newlines has N + 1 lines; an error may point just past the end.
    uint64_t lines = 1;
    for (char c : text) lines += (c == '\n' || c == '\r') ? 1 : 0;
    if (line == 0 || line > lines + 1)
      return "ConfigError names line " + std::to_string(line) + " of a " + std::to_string(lines) +
             "-line text: " + message;
    if (message.size() == pos + 2) return "ConfigError without a reason: " + message;
    return "";
  } catch (const std::exception &e) {
    return std::string("parse_config_text threw ") + typeid(e).name() + " instead of ConfigError: " + e.what();
  } catch (...) {
    return "parse_config_text threw something that is not a std::exception";
  }
  if (accepted) *accepted = true;
  if (config.source_file != kConfigFuzzSource) return "source_file is not the source name";
  if (!kCheckRoundTripOfInvalidUtf8 && !valid_utf8(text)) return "";

  std::string dumped;
  try {
    dumped = dump_config(config);
  } catch (const std::exception &e) {
    return std::string("dump_config threw ") + typeid(e).name() + ": " + e.what();
  }
  Config reparsed;
  try {
    reparsed = parse_config_text(dumped, kConfigFuzzSource);
  } catch (const std::exception &e) {
    return std::string("the dumped configuration does not parse: ") + e.what() + "\n--- dumped:\n" + dumped;
  }
  if (!(reparsed == config)) return "the dumped configuration parses to a different one\n--- dumped:\n" + dumped;
  if (dump_config(reparsed) != dumped) return "dumping the reparsed configuration gives other text";
  return "";
}

}  // namespace rsv::fuzz

#ifndef RSV_FUZZ_PROPERTY_ONLY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string broken = rsv::fuzz::check_config_text(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "config parser property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
#endif
