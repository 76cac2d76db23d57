// One loaded configuration, with everything read from files because of it: the root
// hints, the trust anchors, the validator's view of both, and the policy (local zones
// and data, blocklists: resolver/policy/policy.h).
//
// A Generation is built whole, off the workers' threads, and never changed after; a
// reload (SIGHUP or `resolverctl reload`) builds the next one and hands it to every
// worker, which starts new questions with it while questions already under way finish
// with the one they began with (each holds a shared_ptr). A file that fails to load
// leaves the running Generation in place. The caches are not part of it
// (resolver/server/caches.h): they survive every reload.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnssec/chain_of_trust.h"
#include "dnssec/trust_anchor.h"
#include "resolver/config/config.h"
#include "resolver/iter/delegation.h"
#include "resolver/iter/root_hints.h"
#include "resolver/policy/policy.h"
#include "resolver/server/caches.h"

namespace rsv {

// Where the configuration comes from: a file, or the built-in defaults when the
// default path does not exist.
struct ConfigSource {
  std::string path;
  bool explicit_path = false;  // given with -c: it must exist
};

class Generation {
public:
  // Reads the configuration, root hints, trust anchors and the policy's files. Throws
  // ConfigError or std::runtime_error with FILE:LINE when anything is wrong (a missing
  // or unreadable list, lists over blocklist-memory); lines skipped in the lists are
  // logged as warnings.
  static std::shared_ptr<Generation> load(const ConfigSource &source, Caches &caches, uint64_t number);
  // The same configuration and root hints with other trust anchors (RFC 5011
  // maintenance: resolver/server/trust_anchor_maintainer.h).
  static std::shared_ptr<Generation> with_anchors(const Generation &base, std::vector<TrustAnchor> anchors,
                                                  Caches &caches, uint64_t number);
  // From a configuration already read (start-up and tests). Without a `policy`, it is
  // built from config.policy.
  Generation(Config config, RootHints hints, std::vector<TrustAnchor> anchors, Caches &caches,
             uint64_t number, std::shared_ptr<const Policy> policy = nullptr);
  Generation(const Generation &) = delete;
  Generation &operator=(const Generation &) = delete;

  const Config config;
  const RootHints hints;
  const DelegationPoint root_hints;
  const std::vector<TrustAnchor> anchors;
  ValidatorEnv validator_env;  // references the shared key cache, the anchors above
  const std::shared_ptr<const Policy> policy;  // never null
  const uint64_t number;       // 1 at start, +1 per successful reload
  const int64_t loaded_at;     // wall-clock seconds
};

DelegationPoint hints_delegation(const RootHints &hints);

// The trust anchors as text (each zone, then its DS and DNSKEY records): two lists
// give the same text exactly when they trust the same keys.
std::string trust_anchors_text(const std::vector<TrustAnchor> &anchors);

// What every security status in the caches was judged under, as text: the DNSSEC
// settings that decide a verdict, and the trust anchors in force (as configured, or
// as RFC 5011 maintenance learned them). The one definition both users share: a reload
// that changes it flushes the caches (daemon.cc), and a cache snapshot written under
// another is not restored (cache_snapshots.h, whose context adds what a reload
// flushes name by name: the negative trust anchors and the forwarding). Left out, as
// they decide no verdict until the anchors themselves change: how the anchors are
// maintained (RFC 5011, RFC 8145) and which files they were read from.
std::string validation_settings(const Generation &generation);

// Settings a reload cannot change (sockets are bound, memory sized, privileges
// dropped): the keys that differ between `running` and `loaded`, e.g. "listen".
std::vector<std::string> settings_needing_restart(const Config &running, const Config &loaded);

}  // namespace rsv
