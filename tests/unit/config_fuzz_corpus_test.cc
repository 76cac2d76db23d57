// A deterministic stand-in for the libFuzzer target tests/fuzz/config_fuzz.cc, run
// with every unit test build: a few hundred seeded mutations of valid configurations
// (the shipped conf/*.yaml and a file that sets every key) go through
// parse_config_text and are checked against the same properties as in the fuzz
// target: bad input is a ConfigError naming a line of the input, never another
// exception or a crash, and an accepted configuration survives dump_config and
// parse_config_text unchanged. The same seed gives the same inputs on every machine.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/fuzz_corpus_files.h"
#include "tests/unit/split_mix.h"

// The property lives in the fuzz target's source; take it without the entry point.
#define RSV_FUZZ_PROPERTY_ONLY
#include "tests/fuzz/config_fuzz.cc"

namespace rsv {
namespace {

using testing::SplitMix64;

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every key set, in block and flow style, with the kinds of values each takes.
const char *const kEveryKey = R"(listen: [192.0.2.53@5353, "2001:db8::53@53", 198.51.100.1, "[2001:db8::1]:53"]
access-control: [10.0.0.0/8 allow, 10.1.0.0/16 refuse, "2001:db8::/32 deny"]
threads: 4
log-level: debug
username: resolverd
chroot: /var/lib/resolverd
network:
  do-ip4: true
  do-ip6: false
  outgoing-interface: [192.0.2.7, "2001:db8::7"]
  edns-buffer-size: 1400
  do-not-query-localhost: false
  tcp-idle-timeout: 5000
  max-tcp-connections: 100
  max-tcp-queries-per-connection: 16
  upstream-timeout: 400
  use-caps-for-id: yes
resolver:
  root-hints: /etc/resolverd/root.hints
  qname-minimisation: false
  harden-glue: off
  prime-root: false
  max-queries-in-flight: 99
  budgets: {max-upstream-queries: 100, max-queries-per-name: 10, max-cname-chain: 8, max-subquery-depth: 3, max-glueless-per-delegation: 0, max-ns-per-delegation: 7, max-time: 3000}
forward-zones:
  - {name: example.org, servers: [192.0.2.1@53, "2001:db8::1@5300"]}
  - name: "we\\.ird\\032name."
    servers: [192.0.2.2]
cache: {size: 16M, min-ttl: 5, max-ttl: 3600, max-negative-ttl: 600, serve-stale: no, max-stale: 3600,
        stale-client-timeout: 500, stale-refresh-time: 0, prefetch: false, snapshot: /var/lib/r/c.db,
        snapshot-interval: 0}
dnssec:
  validation: false
  trust-anchor-files: [/etc/a.ds, /etc/b.key]
  negative-trust-anchors: [broken.example, test.]
  bogus-ttl: 30
  max-rrsigs-per-rrset: 4
  max-keys-per-tag: 1
  max-ds-per-zone: 4
  max-verifications-per-response: 8
  max-verifications-per-query: 32
  max-nsec3-per-response: 4
  max-nsec3-hashes-per-query: 300
  max-nsec3-iterations: 0
)";

std::vector<std::string> seeds() {
  return {
      read_file(std::string(RESOLVER_SOURCE_DIR) + "/conf/resolver.yaml"),
      read_file(std::string(RESOLVER_SOURCE_DIR) + "/conf/example-forwarding.yaml"),
      kEveryKey,
      // Anchors and aliases, which yaml-cpp resolves to shared nodes.
      "listen: &l [192.0.2.1@53]\nnetwork: {outgoing-interface: [192.0.2.9]}\n"
      "forward-zones:\n  - {name: a.example, servers: *l}\n  - {name: b.example, servers: *l}\n",
  };
}

// Pieces of YAML and of the values the reader checks, for splicing into the text.
const char *const kTokens[] = {
    ":", ": ", "- ", "[", "]", "{", "}", ",", "\n", "\n  ", "  ", "\t", "#", "\"", "'", "&a ", "*a", "!!str ",
    "!!map ", "? ", "|\n  ", ">\n  ", "---\n", "...\n", "%YAML 1.2\n", "~", "null", "yes", "off", "0", "-1",
    "4294967296", "18446744073709551616", "0x10", "1e3", "64k", "1G", "1T", "@", "@65536", "@0", "/", "/33",
    "/129", "::", "::ffff:1.2.3.4", "[::1]:53", "255.255.255.255", "\\", "\\065", "\\999", ".", "..",
    "*.", "\xEF\xBB\xBF", "\xC3\xA9", "\xFF",
};

// One mutation: byte-level damage as a careless editor or a bad transfer might do
// it, and YAML-level damage (lines dropped, repeated or swapped, tokens spliced in,
// indentation changed).
void mutate(std::string &text, SplitMix64 &rng) {
  if (text.empty()) {
    text = kTokens[rng.below(std::size(kTokens))];
    return;
  }
  const size_t at = rng.below(text.size());
  auto line_start = [&](size_t pos) {
    size_t start = text.rfind('\n', pos);
    return start == std::string::npos ? 0 : start + 1;
  };
  auto line_end = [&](size_t pos) {
    size_t end = text.find('\n', pos);
    return end == std::string::npos ? text.size() : end + 1;
  };
  switch (rng.below(9)) {
    case 0: text[at] = static_cast<char>(text[at] ^ (1 << rng.below(8))); break;
    case 1: text.insert(at, kTokens[rng.below(std::size(kTokens))]); break;
    case 2: {  // a token in place of a word
      size_t end = at;
      while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != ',') ++end;
      const char *token = kTokens[rng.below(std::size(kTokens))];
      text.replace(at, end - at, token);
      break;
    }
    case 3: text.resize(at); break;
    case 4: {  // drop a line
      const size_t start = line_start(at);
      text.erase(start, line_end(at) - start);
      break;
    }
    case 5: {  // repeat a line somewhere else
      const size_t start = line_start(at);
      const std::string line = text.substr(start, line_end(at) - start);
      text.insert(line_start(rng.below(text.size())), line);
      break;
    }
    case 6: {  // indent or dedent a line
      const size_t start = line_start(at);
      if (rng.below(2) == 0)
        text.insert(start, std::string(1 + rng.below(4), ' '));
      else if (text.compare(start, 2, "  ") == 0)
        text.erase(start, 2);
      break;
    }
    case 7: {  // a digit changed, to reach range checks
      const size_t digit = text.find_first_of("0123456789", at);
      if (digit != std::string::npos) text[digit] = static_cast<char>('0' + rng.below(10));
      if (digit != std::string::npos && rng.below(3) == 0) text.insert(digit, std::string(1 + rng.below(12), '9'));
      break;
    }
    default: text.erase(at, 1 + rng.below(8)); break;
  }
}

TEST(ConfigFuzzCorpus, SeedsAreAcceptedAndRoundTrip) {
  for (const std::string &seed : seeds()) {
    ASSERT_FALSE(seed.empty());
    bool accepted = false;
    EXPECT_EQ(fuzz::check_config_text(reinterpret_cast<const uint8_t *>(seed.data()), seed.size(), &accepted), "")
        << seed;
    EXPECT_TRUE(accepted) << seed;
  }
}

TEST(ConfigFuzzCorpus, MutatedConfigurationsFailOnlyWithConfigError) {
  constexpr int kMutantsPerSeed = 100;
  SplitMix64 rng(20240302);
  size_t accepted_count = 0, rejected_count = 0;
  for (const std::string &seed : seeds()) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      std::string mutant = seed;
      const size_t rounds = 1 + rng.below(4);
      for (size_t r = 0; r < rounds; ++r) mutate(mutant, rng);
      bool accepted = false;
      // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
      const std::vector<uint8_t> bytes(mutant.begin(), mutant.end());
      EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size(), &accepted), "") << "mutant " << i << ":\n"
                                                                                     << mutant;
      ++(accepted ? accepted_count : rejected_count);
    }
  }
  // Both paths must have been exercised, or the mutations are too weak to mean anything.
  EXPECT_GT(accepted_count, 40u);
  EXPECT_GT(rejected_count, 40u);
  std::printf("config fuzz corpus: %zu accepted, %zu rejected\n", accepted_count, rejected_count);
}

// The seeds and the reproducers in tests/fuzz/corpus/config_fuzz/, as the fuzz target reads them.
TEST(ConfigFuzzCorpus, CommittedCorpusKeepsTheProperties) {
  const auto files = testing::fuzz_corpus("config_fuzz");
  EXPECT_FALSE(files.empty());
  for (const auto &file : files) {
    // An exact-size heap copy, so AddressSanitizer builds catch a read past the end.
    const std::vector<uint8_t> bytes(file.bytes.begin(), file.bytes.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size()), "") << file.name;
  }
}

TEST(ConfigFuzzCorpus, HostileDocumentsAreConfigErrors) {
  std::vector<std::string> texts = {
      std::string(100000, '['),                   // nesting past yaml-cpp's depth guard
      std::string(100000, '{'),                   //
      "network: " + std::string(5000, '[') + "\n",  //
      std::string("threads: 1\0\nlog-level: info\n", sizeof "threads: 1\0\nlog-level: info\n" - 1),
      "\xEF\xBB\xBFthreads: 2\n",
      "threads: *missing\n",
      "network: &n {do-ip4: *n}\n",               // an alias to the node being defined
      "listen: !!binary aGVsbG8=\n",
      "? [a, b]\n: c\n",
      "threads: 1\nthreads: 2\n",
      "forward-zones: [{name: a., servers: [192.0.2.1]}, {name: A., servers: [192.0.2.2]}]\n",
      "cache: {min-ttl: 10, max-ttl: 5}\n",
      "network: {do-ip4: no, do-ip6: off}\n",
      "\r\r\r\rthreads: x\r",
      "%TAG ! tag:x,2000:\n---\nthreads: !foo 1\n",
      "---\nthreads: 1\n---\nthreads: 2\n",
  };
  // A billion-laughs style document: aliases are shared nodes, so this stays small.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    laughs += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) +
              ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + "]\n";
  texts.push_back(laughs);
  texts.push_back("dnssec: {negative-trust-anchors: &n [a, b, c]}\nlisten: *n\n");
  for (const std::string &text : texts) {
    bool accepted = false;
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size(), &accepted), "") << text.substr(0, 200);
  }
}

// Found by tests/fuzz/config_fuzz.cc: a path holding an octet that is not UTF-8 was
// accepted as is, but dump_config wrote U+FFFD in its place.
TEST(ConfigFuzzCorpus, TextThatIsNotUtf8IsRejectedWithItsLine) {
  // yaml-cpp's emitter would replace the stray byte, so --check-config would show a
  // path the daemon does not use: such files are refused instead.
  const std::string text = "threads: 1\ndnssec: {trust-anchor-files: [/usr/share/dns/roo\xA0t.ds]}\n";
  try {
    parse_config_text(text, "t.yaml");
    FAIL() << "accepted text that is not UTF-8";
  } catch (const ConfigError &e) {
    EXPECT_NE(std::string(e.what()).find("t.yaml:2:"), std::string::npos) << e.what();
  }
  // Valid multi-byte UTF-8 is fine.
  EXPECT_NO_THROW(parse_config_text("chroot: \"/srv/r\xC3\xA9solveur\"\n", "t.yaml"));
}

// Found by tests/fuzz/config_fuzz.cc in its second 1-hour run (reproducer
// tests/fuzz/corpus/config_fuzz/regress-nul-in-scalar: "chroot: 0esope..." with NUL
// and U+001C octets in the value): yaml-cpp read the control characters into the
// path and wrote them back otherwise, so the dumped configuration parsed to another
// one (and a NUL would have cut the path short for chroot(2)).
TEST(ConfigFuzzCorpus, ControlCharactersAreRejectedWithTheirLine) {
  for (const char control : {'\0', '\x01', '\x1c', '\x1f', '\x7f'}) {
    const std::string text = "threads: 1\nchroot: /srv/a" + std::string(1, control) + "b\n";
    try {
      parse_config_text(text, "t.yaml");
      ADD_FAILURE() << "accepted control character " << static_cast<int>(control);
    } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find("t.yaml:2: a control character"), std::string::npos) << e.what();
    }
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size()), "");
  }
  // Tab, line feed and carriage return are YAML's own.
  EXPECT_NO_THROW(parse_config_text("threads: 1\r\nchroot:\t/srv/r\r\n", "t.yaml"));
  const auto corpus = testing::fuzz_corpus("config_fuzz");
  const auto seed = std::find_if(corpus.begin(), corpus.end(),
                                 [](const auto &s) { return s.name == "regress-nul-in-scalar"; });
  ASSERT_NE(seed, corpus.end());
  const std::vector<uint8_t> bytes(seed->bytes.begin(), seed->bytes.end());
  EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size()), "");
  EXPECT_THROW(parse_config_text(seed->bytes, "t.yaml"), ConfigError);
}

// Found in review: the check above reads the file's text, and a double-quoted scalar
// spells a control character as an escape, which yaml-cpp decodes into the value (a
// NUL in the chroot path after all). The decoded value is checked too.
TEST(ConfigFuzzCorpus, ControlCharactersSpelledAsEscapesAreRejected) {
  for (const char *escape : {"\\0", "\\x01", "\\e", "\\x7f", "\\a"}) {
    const std::string text = std::string("threads: 1\nchroot: \"/srv/a") + escape + "b\"\n";
    try {
      parse_config_text(text, "t.yaml");
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find("t.yaml:2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("control character"), std::string::npos) << e.what();
    }
  }
  // A tab spelled as an escape, and a block scalar's line feeds, are text.
  EXPECT_NO_THROW(parse_config_text("chroot: \"/srv/a\\tb\"\n", "t.yaml"));
}

// Found by tests/fuzz/config_fuzz.cc in CI (reproducer, minimised:
// tests/fuzz/corpus/config_fuzz/regress-nel-escape, 'chroot: "/srv/a\Nb"'): yaml-cpp
// decodes YAML's escape \N (NEL) to the lone octet 0x85, not to UTF-8, and the value
// check let it through; dump_config wrote U+FFFD in its place, so the dumped
// configuration named another chroot. \_ (no-break space) decodes to a lone 0xA0
// alike. Refused with them: the C1 controls (NEL among them) and Unicode's line and
// paragraph separators, which yaml-cpp, reading YAML 1.1, would fold into a space
// when written raw; spelled as escapes and written raw alike.
TEST(ConfigFuzzCorpus, UnicodeControlsAndLineBreaksAreRejected) {
  const std::string not_utf8 = "t.yaml:2: key 'chroot': the value is not UTF-8";
  const std::string control = "t.yaml:2: key 'chroot': a control character in the value";
  const std::pair<const char *, const std::string &> escapes[] = {
      {"\\N", not_utf8},    {"\\_", not_utf8},    {"\\L", control},         {"\\P", control},
      {"\\x85", control},   {"\\x80", control},   {"\\x9f", control},       {"\\u0085", control},
      {"\\u2028", control}, {"\\u2029", control}, {"\\U00000085", control}, {"\\r", control},
  };
  for (const auto &[escape, expected] : escapes) {
    const std::string text = std::string("threads: 1\nchroot: \"/srv/a") + escape + "b\"\n";
    try {
      parse_config_text(text, "t.yaml");
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size()), "") << text;
  }
  for (const char *raw : {"\xC2\x85", "\xC2\x80", "\xC2\x9F", "\xE2\x80\xA8", "\xE2\x80\xA9"}) {
    for (const std::string quote : {"", "\""}) {
      const std::string text = "threads: 1\nchroot: " + quote + "/srv/a" + raw + "b" + quote + "\n";
      try {
        parse_config_text(text, "t.yaml");
        ADD_FAILURE() << "accepted " << ::testing::PrintToString(text);
      } catch (const ConfigError &e) {
        EXPECT_NE(std::string(e.what()).find("t.yaml:2: a control character"), std::string::npos) << e.what();
      }
    }
  }
  // Their neighbours are text, and survive the round trip: U+00A0 (escaped as \u00A0
  // and raw), U+00A1, U+2027 and U+202A.
  for (const char *value : {"\"/srv/a\\u00A0b\"",
                            "/srv/a\xC2\xA0"
                            "b",
                            "/srv/a\xC2\xA1"
                            "b",
                            "/srv/a\xE2\x80\xA7"
                            "b",
                            "/srv/a\xE2\x80\xAA"
                            "b"}) {
    const std::string text = std::string("threads: 1\nchroot: ") + value + "\n";
    bool accepted = false;
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size(), &accepted), "") << text;
    EXPECT_TRUE(accepted) << ::testing::PrintToString(text);
  }
  const auto corpus = testing::fuzz_corpus("config_fuzz");
  const auto seed = std::find_if(corpus.begin(), corpus.end(),
                                 [](const auto &s) { return s.name == "regress-nel-escape"; });
  ASSERT_NE(seed, corpus.end());
  EXPECT_THROW(parse_config_text(seed->bytes, "t.yaml"), ConfigError);
}

// Found by tests/fuzz/config_fuzz.cc in its 1-hour run (reproducer
// tests/fuzz/corpus/config_fuzz/regress-overlong-utf8: "chroot: " then E0 83 9A):
// the UTF-8 check looked at lead octets only, so an overlong form was accepted, and
// yaml-cpp's emitter wrote it back as another character (the dumped configuration
// no longer parsed to the same one). The same held for UTF-16 surrogates and code
// points past U+10FFFF (RFC 3629 4), and for the Unicode noncharacters, which are
// valid UTF-8 but which yaml-cpp's emitter also replaces (with U+FFFD).
TEST(ConfigFuzzCorpus, Utf8ThatYamlCppWouldRewriteIsRejected) {
  const char *refused[] = {
      "\xE0\x83\x9A",      // U+00DA in three octets (overlong): the fuzzer's find
      "\xE0\x9F\xBF",      // U+07FF in three octets (overlong)
      "\xF0\x8F\xBF\xBF",  // U+FFFF in four octets (overlong)
      "\xED\xA0\x80",      // U+D800, a UTF-16 surrogate
      "\xED\xBF\xBF",      // U+DFFF, a UTF-16 surrogate
      "\xF4\x90\x80\x80",  // U+110000, past the last code point
      "\xEF\xB7\x90",      // U+FDD0, a noncharacter
      "\xEF\xB7\xAF",      // U+FDEF, a noncharacter
      "\xEF\xBF\xBE",      // U+FFFE, a noncharacter
      "\xEF\xBF\xBF",      // U+FFFF, a noncharacter
      "\xF0\x9F\xBF\xBF",  // U+1FFFF, a noncharacter
      "\xF4\x8F\xBF\xBF",  // U+10FFFF, a noncharacter
  };
  for (const char *octets : refused) {
    const std::string text = "threads: 1\nchroot: \"/srv/" + std::string(octets) + "\"\n";
    try {
      parse_config_text(text, "t.yaml");
      ADD_FAILURE() << "accepted " << ::testing::PrintToString(std::string(octets));
    } catch (const ConfigError &e) {
      EXPECT_NE(std::string(e.what()).find("t.yaml:2: the file is not valid UTF-8"), std::string::npos) << e.what();
    }
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size()), "");
  }
  // The smallest and largest code points of each length (of two octets, the first
  // after the C1 controls, which are refused: UnicodeControlsAndLineBreaksAreRejected),
  // those next to the surrogates and the noncharacters, and U+FFFD itself are
  // accepted and survive the round trip.
  for (const char *octets :
       {"\xC2\xA0", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xB7\x8F",
        "\xEF\xB7\xB0", "\xEF\xBF\xBD", "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBD"}) {
    const std::string text = "chroot: \"/srv/" + std::string(octets) + "\"\n";
    EXPECT_NO_THROW(parse_config_text(text, "t.yaml")) << ::testing::PrintToString(std::string(octets));
    bool accepted = false;
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(fuzz::check_config_text(bytes.data(), bytes.size(), &accepted), "")
        << ::testing::PrintToString(std::string(octets));
    EXPECT_TRUE(accepted) << ::testing::PrintToString(std::string(octets));
  }
}

}  // namespace
}  // namespace rsv
