#include "resolver/iter/delegation.h"

#include <algorithm>

namespace rsv {

uint16_t NameServer::next_lookup(const AddressPolicy &policy) const {
  if (!addresses.empty()) return 0;
  if (policy.do_ip4 && !a_looked_up) return rrtype::A;
  if (policy.do_ip6 && !aaaa_looked_up) return rrtype::AAAA;
  return 0;
}

bool AddressPolicy::allowed(const SocketAddress &address) const {
  if (address.is_ipv4() && !do_ip4) return false;
  if (address.is_ipv6() && !do_ip6) return false;
  if (do_not_query_localhost && address.is_loopback()) return false;
  return true;
}

std::vector<SocketAddress> DelegationPoint::addresses() const {
  std::vector<SocketAddress> out;
  for (const auto &ns : servers)
    for (const auto &a : ns.addresses)
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

bool DelegationPoint::has_addresses() const {
  return std::any_of(servers.begin(), servers.end(), [](const NameServer &ns) { return !ns.addresses.empty(); });
}

void DelegationPoint::add_address(const Name &ns, const SocketAddress &address) {
  for (auto &server : servers) {
    if (server.name != ns) continue;
    if (std::find(server.addresses.begin(), server.addresses.end(), address) == server.addresses.end())
      server.addresses.push_back(address);
  }
}

DelegationPoint delegation_from_ns(const Name &zone, const RRset &ns_set, const RRsetCache &cache,
                                   const AddressPolicy &policy, size_t max_servers) {
  DelegationPoint dp;
  dp.zone = zone;
  for (const auto &rdata : ns_set.rdatas) {
    if (dp.servers.size() >= max_servers) break;
    auto target = Name::from_wire(rdata);
    if (!target) continue;
    NameServer ns;
    ns.name = *target;
    for (uint16_t type : {rrtype::A, rrtype::AAAA}) {
      auto cached = cache.lookup(ns.name, type);
      if (!cached) continue;
      for (const auto &rd : cached->rrset.rdatas) {
        auto address = SocketAddress::from_rdata(rd);
        if (address && policy.allowed(*address)) ns.addresses.push_back(*address);
      }
    }
    // A name server inside the zone it serves can only be reached through glue: a
    // sub-query for it would start at this very delegation and loop.
    if (!ns.addresses.empty() || ns.name.is_subdomain_of(zone)) ns.no_lookups_needed();
    dp.servers.push_back(std::move(ns));
  }
  return dp;
}

std::optional<DelegationPoint> closest_cached_delegation(const Name &name, const RRsetCache &cache,
                                                         const AddressPolicy &policy, size_t max_servers,
                                                         const DelegationPoint &root_hints) {
  Name cut = name;
  while (true) {
    // An NS set the validator found bogus is not followed (RFC 4035 4.7).
    if (auto ns = cache.lookup(cut, rrtype::NS); ns && !ns->rrset.rdatas.empty() && ns->security != Security::bogus) {
      DelegationPoint dp = delegation_from_ns(cut, ns->rrset, cache, policy, max_servers);
      if (cut.is_root())
        for (auto &server : dp.servers)
          for (const auto &hint : root_hints.servers)
            if (server.addresses.empty() && server.name == hint.name)
              for (const auto &address : hint.addresses)
                if (policy.allowed(address)) server.addresses.push_back(address);
      // A cut whose servers we cannot reach at all, and cannot look up, is no use.
      bool usable = dp.has_addresses() || std::any_of(dp.servers.begin(), dp.servers.end(),
                                                      [&](const NameServer &s) { return s.next_lookup(policy) != 0; });
      if (usable) {
        dp.from_cache = true;
        return dp;
      }
    }
    if (cut.is_root()) return std::nullopt;
    cut = cut.parent();
  }
}

}  // namespace rsv
