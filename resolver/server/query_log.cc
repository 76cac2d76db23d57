#include "resolver/server/query_log.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "resolver/wire/rr.h"

namespace rsv {

namespace {

int64_t wall_clock_ms() {
  // The coarse clock (a few ms of resolution) costs no system call: enough for a log.
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

std::string name_text(std::string_view wire) {
  auto name = Name::from_wire(wire);
  return name ? name->to_text() : std::string("?");
}

std::string address_text(std::string_view bytes) {
  auto address = SocketAddress::from_rdata(bytes, 0);
  return address ? address->host_text() : std::string("?");
}

}  // namespace

QueryLog::QueryLog(size_t recent_capacity) : ring_(recent_capacity) {}

void QueryLog::record(const ReplyRecord &reply) {
  // The name lower-cased (RFC 4343: one name, however it is spelled), in wire form.
  char name[Name::kMaxWireLength];
  const size_t name_length = std::min(reply.qname_wire.size(), sizeof name);
  for (size_t i = 0; i < name_length; ++i) name[i] = dns_tolower(reply.qname_wire[i]);
  std::string_view client = reply.client ? reply.client->address_bytes() : std::string_view();

  std::lock_guard lock(mutex_);
  names_.add(std::string_view(name, name_length));
  if (!client.empty()) clients_.add(client);
  if (ring_.empty()) return;
  RecentQuery &entry = ring_[next_];
  entry.time_ms = wall_clock_ms();
  entry.client_length = static_cast<uint8_t>(std::min(client.size(), entry.client.size()));
  std::memcpy(entry.client.data(), client.data(), entry.client_length);
  entry.name_length = static_cast<uint8_t>(name_length);
  std::memcpy(entry.name.data(), name, name_length);
  entry.qtype = reply.qtype;
  entry.rcode = reply.rcode;
  entry.transport = reply.transport;
  entry.has_security = reply.has_security;
  entry.security = reply.security;
  entry.cache_hit = reply.cache_hit;
  entry.latency_us = static_cast<uint32_t>(std::min<uint64_t>(reply.latency_us, UINT32_MAX));
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
  filled_ = std::min(filled_ + 1, ring_.size());
}

void QueryLog::resize_recent(size_t capacity) {
  std::vector<RecentQuery> ring(capacity);
  std::lock_guard lock(mutex_);
  ring_.swap(ring);
  next_ = 0;
  filled_ = 0;
  // `ring`, the old entries, is freed after the lock is released.
}

QueryLog::TopSnapshot QueryLog::top(size_t n) const {
  std::lock_guard lock(mutex_);
  return TopSnapshot{names_.top(n), clients_.top(n), names_.total()};
}

std::vector<RecentQuery> QueryLog::recent(size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<RecentQuery> out;
  const size_t count = std::min(limit, filled_);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(ring_[(next_ + ring_.size() - 1 - i) % ring_.size()]);
  return out;
}

size_t QueryLog::recent_capacity() const {
  std::lock_guard lock(mutex_);
  return ring_.size();
}

nlohmann::json top_json(const std::vector<const QueryLog *> &logs, size_t n) {
  // Each worker's sketch holds its own top keys; a key's counts and error bounds add
  // up over workers. Taking more than `n` from each keeps keys that are spread over
  // the workers.
  struct Sum {
    uint64_t count = 0, error = 0;
  };
  std::map<std::string, Sum> names, clients;
  uint64_t counted = 0;
  for (const QueryLog *log : logs) {
    QueryLog::TopSnapshot snapshot = log->top(QueryLog::kTopCounters);
    counted += snapshot.total;
    for (const auto &item : snapshot.names) {
      names[item.key].count += item.count;
      names[item.key].error += item.error;
    }
    for (const auto &item : snapshot.clients) {
      clients[item.key].count += item.count;
      clients[item.key].error += item.error;
    }
  }
  auto ranked = [n](const std::map<std::string, Sum> &sums, const char *field, std::string (*text)(std::string_view)) {
    std::vector<std::pair<std::string, Sum>> items(sums.begin(), sums.end());
    std::stable_sort(items.begin(), items.end(),
                     [](const auto &a, const auto &b) { return a.second.count > b.second.count; });
    if (items.size() > n) items.resize(n);
    nlohmann::json out = nlohmann::json::array();
    for (const auto &[key, sum] : items)
      out.push_back({{field, text(key)}, {"count", sum.count}, {"error", sum.error}});
    return out;
  };
  return {{"names", ranked(names, "name", name_text)},
          {"clients", ranked(clients, "address", address_text)},
          {"counted", counted},
          {"counters", QueryLog::kTopCounters}};
}

nlohmann::json recent_json(const std::vector<const QueryLog *> &logs, size_t limit) {
  std::vector<RecentQuery> all;
  size_t capacity = 0;
  for (const QueryLog *log : logs) {
    std::vector<RecentQuery> part = log->recent(limit);
    capacity += log->recent_capacity();
    all.insert(all.end(), part.begin(), part.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const RecentQuery &a, const RecentQuery &b) { return a.time_ms > b.time_ms; });
  if (all.size() > limit) all.resize(limit);
  nlohmann::json queries = nlohmann::json::array();
  for (const RecentQuery &q : all) {
    queries.push_back({
        {"time", q.time_ms / 1000.0},
        {"client", address_text(std::string_view(q.client.data(), q.client_length))},
        {"name", name_text(std::string_view(q.name.data(), q.name_length))},
        {"type", type_to_text(q.qtype)},
        {"rcode", rcode_to_text(q.rcode)},
        {"security", q.has_security ? nlohmann::json(to_string(q.security)) : nlohmann::json(nullptr)},
        {"latency_ms", q.latency_us / 1000.0},
        {"transport", kTransportNames[static_cast<size_t>(q.transport)]},
        {"cache_hit", q.cache_hit},
    });
  }
  return {{"capacity", capacity}, {"queries", queries}};
}

}  // namespace rsv
