// Root hints: the names and addresses of the root servers, where iteration starts
// (RFC 1034 5.3.3) and where priming asks for the current root NS set (RFC 8109).
//
// At start-up the daemon takes the configured hints file, or, when the default
// Debian path is absent, the IANA copy compiled in here. The hints are only a
// starting point: priming replaces them with what the root servers say.
#pragma once

#include <string>
#include <vector>

#include "resolver/wire/address.h"
#include "resolver/wire/name.h"

namespace rsv {

struct RootServer {
  Name name;                             // e.g. a.root-servers.net.
  std::vector<SocketAddress> addresses;  // port 53, IPv4 and IPv6, file order
};

struct RootHints {
  std::vector<RootServer> servers;  // only servers with at least one address
  std::string source;               // the file read, or "built-in root hints"
};

// Parses a zone-file-format hints file: NS records for "." and A/AAAA records for
// the server names. Throws std::runtime_error("FILE:LINE: reason") on a syntax
// error or a record that does not belong in root hints, and
// std::runtime_error("FILE: reason") when no server has an address.
RootHints load_root_hints(const std::string &path);
// Same, from text already in memory; `source_name` stands for FILE in errors.
RootHints parse_root_hints(const std::string &text, const std::string &source_name);

// The IANA root hints (13 servers, a to m, IPv4 and IPv6), compiled in because
// Debian's /usr/share/dns/root.hints (package dns-root-data) may be absent.
RootHints builtin_root_hints();

// The hints the daemon should use. A file that exists is always read. A missing
// file falls back to the built-in copy only when the path is the default one
// (the operator did not ask for it); a missing file the operator named is an error.
RootHints effective_root_hints(const std::string &configured_path, bool path_was_given_explicitly);

}  // namespace rsv
