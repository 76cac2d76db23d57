// Reads a fuzz target's committed corpus (tests/fuzz/corpus/<target>/: the seeds
// made by tests/fuzz/make_corpus.sh and the regress-* reproducers of bugs the
// fuzzers found), so that every unit test build replays it.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "resolver/base/log.h"

namespace rsv::testing {

struct CorpusFile {
  std::string name;
  std::string bytes;
};

// Sorted by name, so failures name the same file on every machine.
inline std::vector<CorpusFile> fuzz_corpus(const std::string &target) {
  std::vector<CorpusFile> out;
  const auto dir = std::filesystem::path(RESOLVER_SOURCE_DIR) / "tests/fuzz/corpus" / target;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    out.push_back({entry.path().filename().string(), bytes.str()});
  }
  std::sort(out.begin(), out.end(), [](const CorpusFile &a, const CorpusFile &b) { return a.name < b.name; });
  return out;
}

// Replays that log thousands of verdicts at info need none of them.
struct QuietLog {
  LogSeverity before = log_severity();
  QuietLog() { set_log_severity(LogSeverity::error); }
  ~QuietLog() { set_log_severity(before); }
  QuietLog(const QuietLog &) = delete;
  QuietLog &operator=(const QuietLog &) = delete;
};

}  // namespace rsv::testing
