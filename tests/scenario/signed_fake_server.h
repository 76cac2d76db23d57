// Puts a signed hierarchy (tests/support/signed_hierarchy.h) on a FakeNetwork: each
// server address answers through its SignedAuthority, so the engine and validator
// meet a DNSSEC-aware authority per RFC 4035 3.1 without any socket.
//
//   auto hierarchy = SignedHierarchy::standard();
//   serve(hierarchy, net);
//   // anchors: hierarchy.trust_anchors(); hints: hierarchy.root_hints()
//   net.server("127.10.2.1").forge = [&](const Message &q) -> std::optional<Message> { ... };
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "cache/infra_cache.h"
#include "cache/rrset_cache.h"
#include "dnssec/aggressive_nsec.h"
#include "dnssec/key_cache.h"
#include "resolver/engine/engine.h"
#include "tests/scenario/fake_network.h"
#include "tests/support/signed_hierarchy.h"

namespace rsv::testing {

// The servers answer from the hierarchy as it is when asked, so a test may change
// hierarchy.records(zone) afterwards. The hierarchy must outlive the network's use.
inline void serve(const SignedHierarchy &hierarchy, FakeNetwork &net) {
  for (const auto &[address, authority] : hierarchy.authorities()) {
    const SignedAuthority *server = &authority;
    net.server(address).responder = [server](const Message &query) { return server->answer(query); };
  }
}

// A signed hierarchy on a FakeNetwork, with the engine resolving through it and the
// validator judging every client answer, its results written to the RRset cache and
// the aggressive NSEC cache as in the daemon. Time is pinned to kPinnedNow.
struct SignedNetwork {
  const SignedHierarchy &hierarchy;
  ManualClock clock;
  SeededRandom random{7};
  Config config = make_config();
  RRsetCache rrsets{clock, 16u << 20, TtlPolicy{}};
  InfraCache infra{clock};
  FakeNetwork net{clock};
  DelegationPoint hints = hierarchy.root_hints();
  std::vector<TrustAnchor> anchors = hierarchy.trust_anchors();
  KeyCache keys{clock};
  AggressiveNsecCache aggressive{clock};
  NonCutCache non_cuts{clock, 1u << 20};
  ValidatorEnv validator{keys, anchors, config.dnssec, clock, &aggressive, &rrsets};
  std::unique_ptr<Engine> engine;

  static Config make_config() {
    Config c = default_config();
    c.network.do_not_query_localhost = false;
    c.network.do_ip6 = false;
    return c;
  }

  explicit SignedNetwork(const SignedHierarchy &served) : hierarchy(served) {
    clock.set_seconds(kPinnedNow);
    serve(hierarchy, net);
    engine = std::make_unique<Engine>(
        EngineEnv{rrsets, infra, clock, random, config, hints, &validator, &non_cuts}, net);
  }

  Resolution resolve(const std::string &name, uint16_t type, bool checking_disabled = false) {
    std::optional<Resolution> out;
    engine->resolve(Question{*Name::from_text(name), type, rrclass::IN}, checking_disabled,
                    [&](const Resolution &r) { out = r; });
    net.run();
    if (!out) ADD_FAILURE() << "no completion for " << name;
    return out.value_or(Resolution{});
  }

  // Sends one query straight to a server and parses the reply.
  std::optional<Message> exchange(const std::string &address, const std::string &name, uint16_t type) {
    std::optional<TransportResult> result;
    OutgoingQuery q;
    q.server = *SocketAddress::parse(address);
    q.question = Question{*Name::from_text(name), type, rrclass::IN};
    Edns edns;
    edns.dnssec_ok = true;
    q.wire = encode_query(99, q.question, false, edns, false);
    net.send(q, [&](TransportResult r) { result = std::move(r); });
    net.run();
    if (!result || result->status != TransportStatus::reply) return std::nullopt;
    ParseError error;
    return parse_message(reinterpret_cast<const uint8_t *>(result->wire.data()), result->wire.size(), &error);
  }

  // The honest reply the server at `address` gives to `query`, as a forger would
  // receive it before changing it.
  Message honest(const std::string &address, const Message &query) const {
    return hierarchy.authorities().at(address).answer(query);
  }
};

}  // namespace rsv::testing
