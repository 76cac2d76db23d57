// The resolver's answers of its own, decided before the cache and the resolution:
// locally served names (local_zones.h) and blocked names (blocklists, with the
// allowlist's exceptions).
//
// One query's path (resolver/server/query_handler): the cache-hit fast path asks
// intercepts() with the lower-cased name it already has (one table probe per label;
// no allocation) and leaves every intercepted name to the slow path, which asks
// local_answer() first (a household's own names win over any list), then blocked().
// Answers the engine resolved are checked again for every CNAME/DNAME target, so a
// blocked tracker behind an innocent alias is blocked too (CNAME cloaking).
//
// A Policy is built whole from the configuration and the files it names (a reload
// builds a new one off the workers' threads and swaps it in with the configuration
// generation), then only read: the workers share it without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/config/config.h"
#include "resolver/policy/list_parser.h"
#include "resolver/policy/local_zones.h"
#include "resolver/policy/name_set.h"

namespace rsv {

struct LoadedList {
  BlocklistSource source;
  ListReport report;
  size_t names = 0;  // names it added (a name already listed by an earlier list is not counted)
};

class Policy {
public:
  struct Block {
    uint8_t list = 0;  // index into lists()
    BlockAction action = BlockAction::nxdomain;
  };

  // The built-in local zones only.
  Policy();

  // Reads local data, hosts files, zone files, blocklists and allowlist files.
  // Throws std::runtime_error("FILE: reason") for a file that cannot be read or used,
  // and when the lists need more than blocklist-memory. `warnings` collects what was
  // skipped (malformed lines, first few as FILE:LINE).
  static std::shared_ptr<const Policy> build(const PolicyConfig &config, uint64_t seed,
                                             std::vector<std::string> *warnings = nullptr);

  // The fast path: may `lowered_wire` be answered locally or blocked?
  bool intercepts(std::string_view lowered_wire) const {
    return local_names_.match(lowered_wire).has_value() || blocks_.match(lowered_wire).has_value();
  }
  std::optional<LocalAnswer> local_answer(const Question &question) const { return local_.answer(question); }
  // The list that blocks `name`: the closest listed name wins, and an allow (the
  // allowlist, a list's own exceptions) counts only where it is at least as close as
  // the block (a.b.blocked.example allowed under blocked.example; evil.good.example
  // blocked under an allowed good.example).
  std::optional<Block> blocked(const Name &name) const;

  const std::vector<LoadedList> &lists() const { return lists_; }
  const LocalZones &local_zones() const { return local_; }
  size_t blocked_names() const { return blocks_.size(); }
  size_t allowed_names() const { return allows_.size(); }
  uint64_t memory_bytes() const {
    return blocks_.memory_bytes() + allows_.memory_bytes() + local_names_.memory_bytes();
  }
  uint32_t blocked_ttl() const { return blocked_ttl_; }
  // A digest of the blocklists' and allowlist's contents (independent of the seed):
  // two policies with the same digest block the same names. A reload that changes it
  // must drop cached answers, whose CNAME chains were checked against the old lists.
  uint64_t lists_digest() const { return lists_digest_; }

private:
  explicit Policy(uint64_t seed);
  void index_local_names();

  LocalZones local_;
  NameSet local_names_;  // every local zone (and its subtree) and every name with local data
  NameSet blocks_;
  NameSet allows_;
  std::vector<LoadedList> lists_;
  uint32_t blocked_ttl_ = 10;
  uint64_t lists_digest_ = 0;
};

// The answer a blocked question gets (RFC 8914 4.16, EDE 15 Blocked, naming the list).
struct BlockedAnswer {
  uint16_t rcode = 0;
  std::vector<ResourceRecord> answer;
  ExtendedError error;
};
BlockedAnswer blocked_answer(const Question &question, BlockAction action, const std::string &list_name,
                             uint32_t ttl, const Name *cloaked_target = nullptr);

}  // namespace rsv
