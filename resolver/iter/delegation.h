// A delegation point: a zone cut and what we know of its name servers.
//
// The iterator asks one delegation point at a time. Name servers come from a
// referral's NS set (with glue), the cache, the root hints, or a forward zone; each
// carries the addresses known so far and whether a sub-query for its address is
// still worth making.
#pragma once

#include <vector>

#include "cache/rrset_cache.h"
#include "resolver/config/config.h"
#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

struct NameServer {
  Name name;
  std::vector<SocketAddress> addresses;
  // Sub-queries for its address made (or pointless: it has addresses, or it lies inside
  // the zone it serves and only glue can reach it). One per type, never repeated.
  bool a_looked_up = false;
  bool aaaa_looked_up = false;

  void no_lookups_needed() { a_looked_up = aaaa_looked_up = true; }
  // The address type still worth a sub-query under `policy`, or 0 for none.
  uint16_t next_lookup(const struct AddressPolicy &policy) const;
};

struct DelegationPoint {
  Name zone;
  std::vector<NameServer> servers;
  bool forwarding = false;  // servers are recursive forwarders: send RD=1, accept non-AA
  // Built from the cache (not from a referral just received): its addresses may be
  // the child's own, and the parent's glue is worth a try when they all fail.
  bool from_cache = false;

  // All usable addresses, in server order.
  std::vector<SocketAddress> addresses() const;
  bool has_addresses() const;
  // Adds an address to the server named `ns` (if present and not a duplicate).
  void add_address(const Name &ns, const SocketAddress &address);
};

// Which addresses the resolver may send to, per the network settings.
struct AddressPolicy {
  bool do_ip4 = true;
  bool do_ip6 = true;
  bool do_not_query_localhost = true;
  bool allowed(const SocketAddress &address) const;
};

// Builds a delegation point from an NS RRset and whatever addresses the cache has
// for its names (A/AAAA of any trust, glue included). At most max_servers NS names
// are considered (the budget of NS per delegation).
DelegationPoint delegation_from_ns(const Name &zone, const RRset &ns_set, const RRsetCache &cache,
                                   const AddressPolicy &policy, size_t max_servers);

// Walks up from `name` to the closest zone cut whose NS set is in the cache (and not
// bogus). At the root, a server whose address is not cached takes the address the
// root hints give for the same name (a priming reply may leave the addresses out).
// Returns nullopt when not even the root NS set is cached.
std::optional<DelegationPoint> closest_cached_delegation(const Name &name, const RRsetCache &cache,
                                                         const AddressPolicy &policy, size_t max_servers,
                                                         const DelegationPoint &root_hints);

}  // namespace rsv
