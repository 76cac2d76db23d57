// Queries to authoritative servers over UDP and TCP: the real Transport.
//
// One query's path over UDP: send() opens a fresh socket, binds it to an outgoing
// interface (or the wildcard) on a source port drawn from the RandomSource, connects
// it to the server so the kernel discards datagrams from any other address or port,
// and queues the packet. Queued packets leave together at the end of the loop's turn
// (EndOfTurn), or at once when kDatagramsPerBurst are waiting: a burst of queries wakes
// a sleeping authority once instead of once per query. The timer (query.timeout_ms)
// and the RTT count from the send. Each datagram that arrives
// is checked (RFC 5452 9.1: ID, and the question: name case-insensitively, type,
// class; QR set); one that fails is counted and ignored while we keep waiting, so a
// spoofed packet cannot end the exchange early. The first acceptable datagram, the
// timer or a network error (ICMP port unreachable shows up as UV_ECONNREFUSED on the
// connected socket) ends the exchange, the socket is closed and `done` is called.
//
// Over TCP (query.tcp, RFC 7766 5: after a truncated UDP reply): a fresh connection,
// bound to an outgoing interface if configured, one framed query, one framed reply
// checked the same way, closed afterwards. The timer covers connect, write and read.
//
// RFC 5452 4 and 10: an unpredictable source port multiplies the work of a spoofer by
// about 2^16 on top of the ID (which the engine draws). Ports are drawn from
// 1024..65535; a port in use is redrawn up to 10 times before the kernel chooses.
//
// Lifetime: a UdpTcpUpstream belongs to one EventLoop and is used on its thread only.
// `done` is always called later on that thread, never from inside send(), and exactly
// once -- unless the upstream is destroyed first: then every query still in flight is
// abandoned and its `done` is destroyed without being called. `done` may destroy the
// upstream or call send() again.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "cache/clock.h"
#include "cache/random.h"
#include "resolver/base/counter.h"
#include "resolver/config/config.h"
#include "resolver/engine/transport.h"
#include "resolver/net/event_loop.h"
#include "resolver/wire/response_match.h"

namespace rsv {

struct UpstreamStats {
  Counter udp_queries;
  Counter tcp_queries;
  Counter replies;
  Counter timeouts;
  Counter network_errors;
  Counter mismatches_ignored;  // wrong ID, no QR, wrong question, bad frame
  Counter port_collisions;     // random source port in use, redrawn
};


class UpstreamExchange;

class UdpTcpUpstream final : public Transport {
public:
  static constexpr uint16_t kLowestSourcePort = 1024;
  static constexpr int kPortAttempts = 10;
  // Queued datagrams that leave at once, without waiting for the end of the turn.
  static constexpr size_t kDatagramsPerBurst = 32;

  // `stats`: where to count (a worker's, kept across reloads); null: this object's own.
  UdpTcpUpstream(EventLoop &loop, RandomSource &random, Clock &clock, const NetworkConfig &network,
                 UpstreamStats *stats = nullptr);
  ~UdpTcpUpstream() override;
  UdpTcpUpstream(const UdpTcpUpstream &) = delete;
  UdpTcpUpstream &operator=(const UdpTcpUpstream &) = delete;

  void send(const OutgoingQuery &query, std::function<void(TransportResult)> done) override;

  const UpstreamStats &stats() const { return stats_; }
  size_t in_flight() const { return exchanges_.size(); }

private:
  // The source address for a query to `server`: a random outgoing interface of the
  // same family (port 0), the wildcard if none is configured, or nullopt when that
  // family is disabled or the configured interfaces have none of that family.
  std::optional<SocketAddress> source_for(const SocketAddress &server);
  uint16_t random_source_port();
  void finish(UpstreamExchange &exchange, TransportStatus status, std::string wire = {});
  // Sends the datagrams of the turn's new UDP exchanges (see send_at_end_of_turn_).
  void send_queued_datagrams();

  EventLoop &loop_;
  RandomSource &random_;
  Clock &clock_;
  NetworkConfig network_;
  std::list<std::unique_ptr<UpstreamExchange>> exchanges_;
  // Datagrams and TCP reads are handled to completion before the loop moves on, so
  // all sockets of this upstream share one receive buffer.
  std::unique_ptr<uint8_t[]> receive_buffer_;
  UpstreamStats own_stats_;
  UpstreamStats &stats_;
  // UDP exchanges opened this turn whose query has not left yet, in order; an entry is
  // nulled when its exchange ends first.
  std::vector<UpstreamExchange *> queued_datagrams_;
  EndOfTurn send_at_end_of_turn_;

  friend class UpstreamExchange;
};

}  // namespace rsv
