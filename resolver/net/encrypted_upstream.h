// Forwarding over DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484): the
// Transport the engine talks to, in front of the plain UDP/TCP one.
//
// One query's path: the iterator asks a forward zone's server by its address, as for
// any server; send() looks that address up among the forward zones' encrypted
// endpoints (ForwardZone::endpoints). Not there (every iterative query, plain
// forwarders): the query goes to the plain transport unchanged. There: it joins the
// endpoint's one connection, opened on first use and kept for the next queries while
// it is busy or not idle longer than the idle timeout (RFC 7766 6.2.1, RFC 8484 5:
// connection reuse), many queries in flight at once:
//  - DNS over TLS: framed queries written back to back (pipelining, RFC 7766
//    6.2.1.1); each gets a message ID unique on its connection, mapped back to the
//    engine's ID when its reply arrives, in any order;
//  - DNS over HTTPS: one HTTP/2 stream per query, POST application/dns-message, ID 0
//    on the wire (RFC 8484 4.1), the engine's ID put back into the reply.
// A reply must repeat the question (response_matches_query) like any other; the
// engine then validates it like every forwarded answer. The certificate is checked
// against the system CAs, the zone's tls-cert-bundle, or its tls-pin-sha256 pins
// (TlsContext::client), and nothing is sent before it passed.
//
// Failures: a query's own timer (OutgoingQuery::timeout_ms) gives `timeout`; a
// connection that fails (refused, handshake, verification, reset) fails its queries
// with `network_error`, except that a query on a connection that had already been
// used is retried once on a fresh one (the server may have closed it idle just as
// the query left). Bounds: at most kMaxInFlightPerEndpoint queries per endpoint,
// replies of at most 65535 octets.
//
// Lifetime and callbacks: as UdpTcpUpstream (one loop; `done` exactly once, never
// from inside send(); destroying it abandons what is in flight).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/clock.h"
#include "resolver/base/counter.h"
#include "resolver/config/config.h"
#include "resolver/engine/transport.h"
#include "resolver/net/event_loop.h"

namespace rsv {

struct EncryptedUpstreamStats {
  Counter tls_queries;
  Counter https_queries;
  Counter connections_opened;   // handshakes completed (and certificate accepted)
  Counter connection_failures;  // refused, handshake or verification failed, reset
  Counter replies;
  Counter timeouts;
  Counter network_errors;
  Counter retries;              // queries moved to a fresh connection
  Counter mismatches_ignored;   // replies that did not answer the question asked
};

class EncryptedEndpoint;
class UpstreamConnection;

class EncryptedUpstream final : public Transport {
public:
  static constexpr size_t kMaxInFlightPerEndpoint = 1024;

  // `plain` carries every query not for an encrypted endpoint; it must outlive this.
  // An endpoint whose TLS settings cannot be loaded is logged and fails its queries.
  EncryptedUpstream(EventLoop &loop, Clock &clock, const Config &config, Transport &plain,
                    EncryptedUpstreamStats *stats = nullptr);
  ~EncryptedUpstream() override;
  EncryptedUpstream(const EncryptedUpstream &) = delete;
  EncryptedUpstream &operator=(const EncryptedUpstream &) = delete;

  void send(const OutgoingQuery &query, std::function<void(TransportResult)> done) override;

  size_t in_flight() const { return pending_.size(); }
  size_t endpoint_count() const { return endpoints_.size(); }
  const EncryptedUpstreamStats &stats() const { return stats_; }

  // For the connections: a query's reply, or its failure. Unknown keys (already
  // timed out) are ignored.
  void deliver(uint64_t key, std::string wire);
  void fail(uint64_t key, bool retryable);
  const OutgoingQuery *query(uint64_t key) const;

private:
  struct Pending;
  void finish(uint64_t key, TransportStatus status, std::string wire = {});

  EventLoop &loop_;
  Clock &clock_;
  Transport &plain_;
  uint32_t idle_timeout_ms_;
  std::unordered_map<SocketAddress, std::unique_ptr<EncryptedEndpoint>, SocketAddressHash> endpoints_;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  uint64_t next_key_ = 1;
  EncryptedUpstreamStats own_stats_;
  EncryptedUpstreamStats &stats_;

  friend class EncryptedEndpoint;
  friend class UpstreamConnection;
};

}  // namespace rsv
