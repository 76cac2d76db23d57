// The one door between resolution logic and the network.
//
// The engine never touches a socket: when the iterator wants to ask an authority
// something, the engine hands an OutgoingQuery to a Transport and gets exactly one
// TransportResult back later. The real implementation (resolver/net/upstream) uses
// libuv; tests substitute a fake network with a manual clock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cache/random.h"
#include "resolver/wire/address.h"
#include "resolver/wire/message.h"

namespace rsv {

struct OutgoingQuery {
  SocketAddress server;  // address and port of the authority
  std::string wire;      // the complete query packet
  uint16_t id = 0;       // the ID inside `wire`
  Question question;     // the question inside `wire`, with the case as sent
  bool tcp = false;      // RFC 7766 framing over a fresh TCP connection
  bool case_randomised = false;  // 0x20: the reply must repeat the question's case exactly
  uint32_t timeout_ms = 1000;
};

enum class TransportStatus {
  reply,          // `wire` holds a reply whose source, ID and question matched
  timeout,        // nothing acceptable arrived within timeout_ms
  network_error,  // the query could not be sent, or the connection failed
};

struct TransportResult {
  TransportStatus status = TransportStatus::timeout;
  std::string wire;
  uint32_t rtt_ms = 0;
};

class Transport {
public:
  virtual ~Transport() = default;
  // Sends `query`. `done` is called exactly once, later (never from inside send),
  // on the thread that called send. A reply is accepted only if it comes from the
  // server's address and port, carries the query's ID and repeats its question
  // (name compared case-insensitively; the engine checks 0x20 case itself).
  virtual void send(const OutgoingQuery &query, std::function<void(TransportResult)> done) = 0;
};

}  // namespace rsv
