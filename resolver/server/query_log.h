// What the dashboard shows about individual queries, per worker: the most asked
// names and the busiest clients (Space-Saving sketches, resolver/server/top_k.h) and
// the last http.recent-queries replies (a ring buffer).
//
// The query handler calls record() once per reply it sends, the cache-hit fast path
// included, on the worker's thread; the HTTP server's threads read snapshots. One
// mutex guards both: the writer holds it for a hash probe and a copy of at most 300
// bytes, the readers for a copy of the sketches or the ring (a dashboard refresh
// every few seconds). Memory is fixed at construction: two sketches of kTopCounters
// counters and the ring; a ring of size 0 costs nothing per query.
//
// The log lives in the Worker, not in a pipeline, so it survives configuration
// reloads; a reload that changes http.recent-queries resizes the ring (what it held
// is dropped).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/trust.h"
#include "resolver/server/query_metrics.h"
#include "resolver/server/top_k.h"
#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

// One reply, as the query handler knows it when sending.
struct ReplyRecord {
  const SocketAddress *client = nullptr;
  ClientTransport transport = ClientTransport::udp;
  std::string_view qname_wire;  // the question name as the reply repeats it (uncompressed)
  uint16_t qtype = 0;
  uint8_t rcode = 0;
  bool has_security = false;  // false: no DNSSEC outcome (errors, refusals)
  Security security = Security::unchecked;
  bool cache_hit = false;
  uint64_t latency_us = 0;
};

// A ring entry: fixed size, no allocation. The name comes last, so that writing an
// entry with a short name touches one or two cache lines, not five.
struct RecentQuery {
  int64_t time_ms = 0;  // wall clock
  uint32_t latency_us = 0;
  uint16_t qtype = 0;
  uint8_t rcode = 0;
  ClientTransport transport = ClientTransport::udp;
  bool has_security = false;
  Security security = Security::unchecked;
  bool cache_hit = false;
  uint8_t client_length = 0;  // 4 or 16
  uint8_t name_length = 0;
  std::array<char, 16> client{};
  std::array<char, Name::kMaxWireLength> name{};
};

class QueryLog {
public:
  // Counters per sketch: 128 names of up to 255 bytes (about 35 KiB) and 128 clients.
  static constexpr size_t kTopCounters = 128;
  using NameSketch = SpaceSaving<Name::kMaxWireLength>;
  using ClientSketch = SpaceSaving<16>;

  explicit QueryLog(size_t recent_capacity);
  QueryLog(const QueryLog &) = delete;
  QueryLog &operator=(const QueryLog &) = delete;

  // The worker's thread.
  void record(const ReplyRecord &reply);
  // The worker's thread (a reload): a new, empty ring of `capacity` entries.
  void resize_recent(size_t capacity);

  // Any thread.
  struct TopSnapshot {
    std::vector<NameSketch::Item> names;    // keys: lower-cased wire names
    std::vector<ClientSketch::Item> clients;  // keys: address bytes (4 or 16)
    uint64_t total = 0;                      // replies counted
  };
  TopSnapshot top(size_t n) const;
  // Up to `limit` entries, newest first.
  std::vector<RecentQuery> recent(size_t limit) const;
  size_t recent_capacity() const;

private:
  mutable std::mutex mutex_;
  NameSketch names_{kTopCounters};
  ClientSketch clients_{kTopCounters};
  std::vector<RecentQuery> ring_;
  size_t next_ = 0;    // where the next entry goes
  size_t filled_ = 0;  // entries written, at most ring_.size()
};

// The HTTP API's documents, merged over every worker's log.
// {"names": [{"name", "count", "error"}], "clients": [{"address", "count", "error"}],
//  "counted": N, "counters": K}: counts summed over workers, largest first.
nlohmann::json top_json(const std::vector<const QueryLog *> &logs, size_t n);
// {"capacity": C, "queries": [{"time", "client", "name", "type", "rcode", "security",
//  "latency_ms", "transport", "cache_hit"}]}: newest first, at most `limit`.
nlohmann::json recent_json(const std::vector<const QueryLog *> &logs, size_t limit);

}  // namespace rsv
