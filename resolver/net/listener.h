// Receiving client queries: the contract between the network layer and the server.
//
// For every query a listener (UDP or TCP) receives, it fills a QueryContext and calls
// QueryHandler::handle on the loop thread. The handler either writes the reply into
// the context's buffer at once (the cache-hit path: no allocation, no copy of the
// query) or calls defer() and answers later through the ReplyChannel it got. The
// listener owns framing, truncation limits it was told about, and connection life.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "resolver/wire/address.h"

namespace rsv {

class ReplyChannel {
public:
  virtual ~ReplyChannel() = default;
  // Sends one reply to the client. Safe to call after the client has gone (TCP
  // closed): the reply is then dropped. Must be called on the loop thread.
  virtual void send(std::string_view wire) = 0;
};

enum class Disposition {
  reply,     // the handler wrote reply_size bytes into reply_buffer
  drop,      // send nothing (ACL deny, garbage that deserves no answer)
  deferred,  // the handler called defer() and will answer through the channel
};

class QueryContext {
public:
  virtual ~QueryContext() = default;
  const uint8_t *query = nullptr;
  size_t query_size = 0;
  SocketAddress client;
  SocketAddress local;  // the listening address the query arrived on
  bool tcp = false;
  uint8_t *reply_buffer = nullptr;  // capacity reply_capacity (65535)
  size_t reply_capacity = 0;
  size_t reply_size = 0;
  // Takes the slow path: the returned channel outlives this context.
  virtual std::shared_ptr<ReplyChannel> defer() = 0;
};

class QueryHandler {
public:
  virtual ~QueryHandler() = default;
  virtual Disposition handle(QueryContext &context) = 0;
};

}  // namespace rsv
