#include "resolver/iter/root_hints.h"

#include <filesystem>
#include <stdexcept>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

// From https://www.internic.net/domain/named.root (the copy in Debian's
// dns-root-data), last updated April 18, 2024, root zone version 2024041801.
constexpr const char *kBuiltinRootHints =
    R"(; IANA root hints, as published at https://www.internic.net/domain/named.root
;       last update:     April 18, 2024
;       related version of root zone:     2024041801
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
)";

constexpr const char *kBuiltinSourceName = "built-in root hints";

RootHints hints_from_records(const std::vector<RecordAtLine> &records, const std::string &source_name) {
  RootHints hints;
  hints.source = source_name;
  // NS order is kept so that the servers come out in the order the file lists them.
  std::vector<Name> ns_names;
  std::vector<std::pair<Name, SocketAddress>> addresses;
  for (const RecordAtLine &entry : records) {
    const ResourceRecord &rr = entry.record;
    auto fail = [&](const std::string &reason) {
      throw std::runtime_error(source_name + ":" + std::to_string(entry.line) + ": " + reason);
    };
    if (rr.rclass != rrclass::IN) fail("root hints must be class IN");
    if (rr.type == rrtype::NS) {
      if (!rr.owner.is_root())
        fail("NS record for '" + rr.owner.to_text() + "': root hints hold NS records for '.' only");
      std::optional<Name> target = rr.rdata_target();
      if (!target) fail("malformed NS record");
      bool seen = false;
      for (const Name &n : ns_names) seen = seen || n == *target;
      if (!seen) ns_names.push_back(*target);
    } else if (rr.type == rrtype::A || rr.type == rrtype::AAAA) {
      std::optional<SocketAddress> address = SocketAddress::from_rdata(rr.rdata, 53);
      if (!address) fail("malformed " + type_to_text(rr.type) + " record");
      addresses.emplace_back(rr.owner, *address);
    } else {
      fail("unexpected " + type_to_text(rr.type) + " record: root hints hold only NS, A and AAAA records");
    }
  }
  // Addresses for names that no NS record names are not root servers; they are
  // ignored, as are servers without an address (priming finds those later).
  for (const Name &ns : ns_names) {
    RootServer server{ns, {}};
    for (const auto &[owner, address] : addresses) {
      if (owner != ns) continue;
      bool duplicate = false;
      for (const SocketAddress &a : server.addresses) duplicate = duplicate || a == address;
      if (!duplicate) server.addresses.push_back(address);
    }
    if (!server.addresses.empty()) hints.servers.push_back(std::move(server));
  }
  if (hints.servers.empty())
    throw std::runtime_error(
        source_name +
        ": no usable root server (need NS records for '.' and A or AAAA records for their names)");
  return hints;
}

}  // namespace

RootHints parse_root_hints(const std::string &text, const std::string &source_name) {
  return hints_from_records(parse_zone_text(text, source_name), source_name);
}

RootHints load_root_hints(const std::string &path) {
  return hints_from_records(read_zone_file(path), path);
}

RootHints builtin_root_hints() {
  return parse_root_hints(kBuiltinRootHints, kBuiltinSourceName);
}

RootHints effective_root_hints(const std::string &configured_path, bool path_was_given_explicitly) {
  std::error_code error;
  bool exists = std::filesystem::exists(configured_path, error);
  if (exists || path_was_given_explicitly) return load_root_hints(configured_path);
  return builtin_root_hints();
}

}  // namespace rsv
