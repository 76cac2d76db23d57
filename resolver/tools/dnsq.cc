// dnsq: a dig-like stub client for testing resolverd and the authorities it talks to.
//
// One query's path: the command line becomes a Question and flags; rsv::encode_query
// writes the packet, so RD, CD, DO and the EDNS payload size are exactly what the user
// asked for; c-ares sends it (UDP or TCP, retries, timeouts) to the one server given;
// the reply goes through rsv::parse_message, the same parser the resolver trusts, and
// is printed the way dig prints it.
//
// Exit status (as dig's): 0 when a reply arrived, whatever its rcode; 9 when no reply
// came (timeout, refused connection); 1 on usage errors; 10 on internal errors.

#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "resolver/wire/address.h"
#include "resolver/wire/message.h"

namespace rsv {
namespace {

constexpr int kExitReply = 0;
constexpr int kExitUsage = 1;
constexpr int kExitNoReply = 9;
constexpr int kExitInternal = 10;

// ---------------------------------------------------------------------------------
// c-ares handles

// ares_library_init must precede every channel and ares_library_cleanup follow the
// last one; holding the guard in main's scope, declared before any channel, orders both.
class AresLibrary {
public:
  AresLibrary() : status_(ares_library_init(ARES_LIB_INIT_ALL)) {}
  ~AresLibrary() {
    if (status_ == ARES_SUCCESS) ares_library_cleanup();
  }
  AresLibrary(const AresLibrary &) = delete;
  AresLibrary &operator=(const AresLibrary &) = delete;
  bool ok() const { return status_ == ARES_SUCCESS; }
  int status() const { return status_; }

private:
  int status_;
};

struct AresChannelDeleter {
  void operator()(ares_channel channel) const {
    if (channel) ares_destroy(channel);
  }
};
using AresChannel = std::unique_ptr<std::remove_pointer_t<ares_channel>, AresChannelDeleter>;

// ---------------------------------------------------------------------------------
// Command line

struct Options {
  std::optional<std::string> server;  // as typed after '@'
  uint16_t port = 53;
  bool tcp = false;
  bool tcp_fallback = false;  // let c-ares retry over TCP on TC instead of showing it
  bool dnssec = false;
  bool checking_disabled = false;
  bool recursion_desired = true;
  bool edns = true;
  uint16_t bufsize = 1232;  // DNS flag day 2020 default
  int timeout_seconds = 3;
  int tries = 2;
  bool short_output = false;
  bool show_help = false;
  std::string qname;
  uint16_t qtype = rrtype::A;
  std::string qtype_text = "A";
};

void print_usage(std::FILE *out) {
  std::fprintf(out,
               "usage: dnsq [@server] [-p port] [+tcp] [+tcpfallback] [+dnssec] [+cd] [+norec]\n"
               "            [+noedns] [+bufsize=N] [+timeout=S] [+tries=N] [+short] name [type]\n"
               "  @server      IPv4 or IPv6 address (default: the servers in /etc/resolv.conf)\n"
               "  -p port      server port (default 53)\n"
               "  +tcp         query over TCP\n"
               "  +tcpfallback on a truncated UDP reply, retry over TCP (default: show the TC reply)\n"
               "  +dnssec      set the DO bit          +cd     set the CD bit\n"
               "  +norec       clear the RD bit        +noedns send no OPT record\n"
               "  +bufsize=N   EDNS UDP payload size (default 1232)\n"
               "  +timeout=S   seconds for the first try; c-ares doubles it on each retry (default 3)\n"
               "  +tries=N     attempts in all (default 2)\n"
               "  +short       print only the answer rdata\n"
               "exit status: 0 a reply arrived, 9 no reply, 1 usage error, 10 internal error\n");
}

std::optional<unsigned long> parse_number(std::string_view text, unsigned long max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  unsigned long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// Returns an error message, or nullopt when the option was understood.
std::optional<std::string> apply_plus_option(std::string_view option, Options &options) {
  auto value_of = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (option.substr(0, prefix.size()) != prefix) return std::nullopt;
    return option.substr(prefix.size());
  };
  if (option == "tcp" || option == "vc") {
    options.tcp = true;
  } else if (option == "notcp") {
    options.tcp = false;
  } else if (option == "tcpfallback") {
    options.tcp_fallback = true;
  } else if (option == "dnssec") {
    options.dnssec = true;
  } else if (option == "cd" || option == "cdflag") {
    options.checking_disabled = true;
  } else if (option == "norec" || option == "norecurse") {
    options.recursion_desired = false;
  } else if (option == "rec" || option == "recurse") {
    options.recursion_desired = true;
  } else if (option == "noedns") {
    options.edns = false;
  } else if (option == "edns") {
    options.edns = true;
  } else if (option == "short") {
    options.short_output = true;
  } else if (auto value = value_of("bufsize=")) {
    auto size = parse_number(*value, 65535);
    if (!size) return "bad +bufsize value";
    // RFC 6891 6.2.5: sizes below 512 are treated as 512 anyway.
    options.bufsize = static_cast<uint16_t>(*size < 512 ? 512 : *size);
  } else if (auto value = value_of("timeout=")) {
    auto seconds = parse_number(*value, 300);
    if (!seconds || *seconds == 0) return "bad +timeout value";
    options.timeout_seconds = static_cast<int>(*seconds);
  } else if (auto value = value_of("tries=")) {
    auto tries = parse_number(*value, 100);
    if (!tries || *tries == 0) return "bad +tries value";
    options.tries = static_cast<int>(*tries);
  } else {
    return "unknown option +" + std::string(option);
  }
  return std::nullopt;
}

std::optional<std::string> parse_command_line(int argc, char **argv, Options &options) {
  std::vector<std::string_view> positional;
  std::optional<std::string_view> type_text;  // from -t or the second positional argument
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.empty()) return "empty argument";
    if (arg[0] == '@') {
      options.server = std::string(arg.substr(1));
    } else if (arg[0] == '+') {
      if (auto error = apply_plus_option(arg.substr(1), options)) return error;
    } else if (arg == "-p") {
      if (i + 1 >= argc) return "-p needs a port";
      auto port = parse_number(argv[++i], 65535);
      if (!port || *port == 0) return "bad port " + std::string(argv[i]);
      options.port = static_cast<uint16_t>(*port);
    } else if (arg == "-t") {
      if (i + 1 >= argc) return "-t needs a type";
      type_text = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      options.show_help = true;
      return std::nullopt;
    } else if (arg[0] == '-' && arg.size() > 1) {
      return "unknown option " + std::string(arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) return "no name given";
  if (positional.size() > 2 || (positional.size() == 2 && type_text)) return "too many arguments";
  options.qname = std::string(positional[0]);
  if (positional.size() == 2) type_text = positional[1];
  if (type_text) {
    options.qtype_text = std::string(*type_text);
    for (auto &c : options.qtype_text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    options.qtype = type_from_text(options.qtype_text);
    if (options.qtype == 0) return "unknown type " + std::string(*type_text);
  }
  return std::nullopt;
}

// c-ares wants "host:port" with IPv6 in brackets; the address is checked with our own
// parser first so that a typo is a usage error rather than a silent fallback.
std::optional<std::string> server_csv(std::string_view server, uint16_t port) {
  auto address = SocketAddress::parse(server, port);
  if (!address) return std::nullopt;
  if (address->is_ipv6()) return "[" + address->host_text() + "]:" + std::to_string(address->port());
  return address->host_text() + ":" + std::to_string(address->port());
}

// ---------------------------------------------------------------------------------
// Sending

struct Outcome {
  bool done = false;
  int status = ARES_SUCCESS;
  int timeouts = 0;
  std::string reply;
};

void on_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  auto *outcome = static_cast<Outcome *>(arg);
  outcome->done = true;
  outcome->status = status;
  outcome->timeouts = timeouts;
  if (status == ARES_SUCCESS && abuf && alen > 0) outcome->reply.assign(reinterpret_cast<char *>(abuf), alen);
}

// Drives the channel until the query's callback has run. c-ares 1.18 has no event
// thread of its own, so we poll its sockets and let it handle its own timeouts.
void run_until_done(ares_channel channel, const Outcome &outcome) {
  while (!outcome.done) {
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(channel, sockets, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events) fds.push_back({sockets[i], events, 0});
    }
    // ares_timeout returns either &max_wait or &scratch: only the result is meaningful.
    timeval max_wait{1, 0};
    timeval scratch{};
    const timeval *wait = ares_timeout(channel, &max_wait, &scratch);
    // Round up, so a deadline under a millisecond away does not become a busy loop.
    int timeout_ms = static_cast<int>(wait->tv_sec * 1000 + (wait->tv_usec + 999) / 1000);
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready <= 0) {  // nothing readable: let c-ares expire queries and retry
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (const auto &fd : fds) {
      ares_socket_t readable = (fd.revents & (POLLIN | POLLERR | POLLHUP)) ? fd.fd : ARES_SOCKET_BAD;
      ares_socket_t writable = (fd.revents & POLLOUT) ? fd.fd : ARES_SOCKET_BAD;
      if (readable != ARES_SOCKET_BAD || writable != ARES_SOCKET_BAD)
        ares_process_fd(channel, readable, writable);
    }
  }
}

// ---------------------------------------------------------------------------------
// Printing

const char *opcode_text(uint8_t opcode) {
  switch (opcode) {
    case 0: return "QUERY";
    case 1: return "IQUERY";
    case 2: return "STATUS";
    case 4: return "NOTIFY";
    case 5: return "UPDATE";
    default: return nullptr;
  }
}

std::string status_text(uint16_t rcode) {
  switch (rcode) {  // RFC 6895 2.3, the ones rcode_to_text leaves numeric
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 23: return "BADCOOKIE";
    default: return rcode_to_text(rcode);
  }
}

// RFC 8914 5.2 purposes, as dig prints them.
const char *ede_purpose(uint16_t code) {
  static const char *const kPurposes[] = {
      "Other",
      "Unsupported DNSKEY Algorithm",
      "Unsupported DS Digest Type",
      "Stale Answer",
      "Forged Answer",
      "DNSSEC Indeterminate",
      "DNSSEC Bogus",
      "Signature Expired",
      "Signature Not Yet Valid",
      "DNSKEY Missing",
      "RRSIGs Missing",
      "No Zone Key Bit Set",
      "NSEC Missing",
      "Cached Error",
      "Not Ready",
      "Blocked",
      "Censored",
      "Filtered",
      "Prohibited",
      "Stale NXDOMAIN Answer",
      "Not Authoritative",
      "Not Supported",
      "No Reachable Authority",
      "Network Error",
      "Invalid Data",
      "Signature Expired before Valid",
      "Too Early",
      "Unsupported NSEC3 Iterations Value",
      "Unable to conform to policy",
      "Synthesized",
  };
  return code < std::size(kPurposes) ? kPurposes[code] : "Unknown";
}

std::string flags_text(const Message &m) {
  std::string flags;
  auto add = [&](bool on, const char *name) {
    if (!on) return;
    if (!flags.empty()) flags += ' ';
    flags += name;
  };
  add(m.qr, "qr");
  add(m.aa, "aa");
  add(m.tc, "tc");
  add(m.rd, "rd");
  add(m.ra, "ra");
  add(m.ad, "ad");
  add(m.cd, "cd");
  return flags;
}

// The rdata part of a to_text() line: owner, TTL, class and type are tab-separated
// before it.
std::string rdata_text(const ResourceRecord &rr) {
  std::string line = rr.to_text();
  size_t pos = 0;
  for (int field = 0; field < 4 && pos != std::string::npos; ++field) {
    pos = line.find('\t', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? line : line.substr(pos);
}

void print_section(const char *title, const std::vector<ResourceRecord> &records) {
  if (records.empty()) return;
  std::printf("\n;; %s SECTION:\n", title);
  for (const auto &rr : records) std::printf("%s\n", rr.to_text().c_str());
}

void print_reply(const Message &m) {
  const char *opcode = opcode_text(m.opcode);
  std::string opcode_fallback = "OPCODE" + std::to_string(m.opcode);
  std::printf(";; ->>HEADER<<- opcode: %s, status: %s, id: %u\n", opcode ? opcode : opcode_fallback.c_str(),
              status_text(m.rcode).c_str(), m.id);
  // As in dig, the OPT record counts towards ADDITIONAL.
  std::printf(";; flags: %s; QUERY: %zu, ANSWER: %zu, AUTHORITY: %zu, ADDITIONAL: %zu\n",
              flags_text(m).c_str(), m.questions.size(), m.answer.size(), m.authority.size(),
              m.additional.size() + (m.edns ? 1 : 0));
  if (m.tc) std::printf(";; WARNING: the reply is truncated (TC); retry with +tcp or +tcpfallback\n");
  if (m.edns) {
    std::printf("\n;; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s; udp: %u\n", m.edns->version,
                m.edns->dnssec_ok ? " do" : "", m.edns->udp_size);
    for (const auto &error : m.extended_errors()) {
      std::printf(";; EDE: %u (%s)", error.info_code, ede_purpose(error.info_code));
      if (!error.extra_text.empty()) std::printf(": %s", error.extra_text.c_str());
      std::printf("\n");
    }
    for (const auto &option : m.edns->options) {
      if (option.code == edns_option::COOKIE) {
        std::string hex;
        for (unsigned char c : option.data) {
          char buf[3];
          std::snprintf(buf, sizeof buf, "%02x", c);
          hex += buf;
        }
        std::printf("; COOKIE: %s\n", hex.c_str());
      }
    }
  }
  std::printf("\n;; QUESTION SECTION:\n");
  for (const auto &q : m.questions)
    std::printf(";%s\t\t%s\t%s\n", q.name.to_text().c_str(), q.qclass == rrclass::IN ? "IN" : "CLASS?",
                type_to_text(q.qtype).c_str());
  print_section("ANSWER", m.answer);
  print_section("AUTHORITY", m.authority);
  print_section("ADDITIONAL", m.additional);
}

int run(const Options &options) {
  auto qname = Name::from_text(options.qname);
  if (!qname) {
    std::fprintf(stderr, "dnsq: invalid name '%s'\n", options.qname.c_str());
    return kExitUsage;
  }
  std::optional<std::string> servers;
  if (options.server) {
    servers = server_csv(*options.server, options.port);
    if (!servers) {
      std::fprintf(stderr, "dnsq: server must be an IPv4 or IPv6 address, not '%s'\n",
                   options.server->c_str());
      return kExitUsage;
    }
  }

  AresLibrary library;
  if (!library.ok()) {
    std::fprintf(stderr, "dnsq: ares_library_init: %s\n", ares_strerror(library.status()));
    return kExitInternal;
  }
  ares_options ares_opts{};
  // NOCHECKRESP: show SERVFAIL/REFUSED replies instead of trying the next server.
  // IGNTC: show a TC reply as it came, unless the user asked for c-ares's TCP retry.
  ares_opts.flags = ARES_FLAG_NOCHECKRESP;
  if (options.tcp) ares_opts.flags |= ARES_FLAG_USEVC;
  if (!options.tcp_fallback) ares_opts.flags |= ARES_FLAG_IGNTC;
  ares_opts.timeout = options.timeout_seconds * 1000;
  ares_opts.tries = options.tries;
  int optmask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  ares_channel raw_channel = nullptr;
  int status = ares_init_options(&raw_channel, &ares_opts, optmask);
  AresChannel channel(raw_channel);
  if (status != ARES_SUCCESS) {
    std::fprintf(stderr, "dnsq: ares_init_options: %s\n", ares_strerror(status));
    return kExitInternal;
  }
  if (servers) {
    status = ares_set_servers_ports_csv(channel.get(), servers->c_str());
    if (status != ARES_SUCCESS) {
      std::fprintf(stderr, "dnsq: ares_set_servers_ports_csv(%s): %s\n", servers->c_str(),
                   ares_strerror(status));
      return kExitInternal;
    }
  }

  std::optional<Edns> edns;
  if (options.edns) {
    edns = Edns{};
    edns->udp_size = options.bufsize;
    edns->dnssec_ok = options.dnssec;
  }
  // ares_send (c-ares 1.18) sends the ID it is given and matches the reply against it,
  // so the ID must be unpredictable here (RFC 5452 4.3).
  std::random_device entropy;
  const auto id = static_cast<uint16_t>(entropy() & 0xFFFF);
  const std::string query = encode_query(id, Question{*qname, options.qtype, rrclass::IN},
                                         options.recursion_desired, edns, options.checking_disabled);
  Outcome outcome;
  const auto started = std::chrono::steady_clock::now();
  ares_send(channel.get(), reinterpret_cast<const unsigned char *>(query.data()),
            static_cast<int>(query.size()), on_reply, &outcome);
  run_until_done(channel.get(), outcome);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count();

  const std::string server_text = servers ? *servers : std::string("(resolv.conf)");
  if (outcome.status != ARES_SUCCESS || outcome.reply.empty()) {
    std::printf(";; no reply from %s: %s (%d timeouts)\n", server_text.c_str(), ares_strerror(outcome.status),
                outcome.timeouts);
    return kExitNoReply;
  }
  ParseError error = ParseError::none;
  auto reply =
      parse_message(reinterpret_cast<const uint8_t *>(outcome.reply.data()), outcome.reply.size(), &error);
  if (!reply) {
    std::printf(";; reply from %s could not be parsed: %s (%zu octets)\n", server_text.c_str(),
                to_string(error), outcome.reply.size());
    return kExitReply;
  }
  if (options.short_output) {
    for (const auto &rr : reply->answer) std::printf("%s\n", rdata_text(rr).c_str());
    return kExitReply;
  }
  std::printf("; <<>> dnsq <<>> %s %s\n;; Got answer:\n", options.qname.c_str(), options.qtype_text.c_str());
  print_reply(*reply);
  std::printf("\n;; Query time: %lld msec\n", static_cast<long long>(elapsed));
  const char *transport = options.tcp ? "TCP" : options.tcp_fallback ? "UDP, TCP if truncated" : "UDP";
  std::printf(";; SERVER: %s (%s)\n", server_text.c_str(), transport);
  std::printf(";; MSG SIZE  rcvd: %zu\n", outcome.reply.size());
  return kExitReply;
}

}  // namespace
}  // namespace rsv

int main(int argc, char **argv) {
  rsv::Options options;
  if (auto error = rsv::parse_command_line(argc, argv, options)) {
    std::fprintf(stderr, "dnsq: %s\n", error->c_str());
    rsv::print_usage(stderr);
    return rsv::kExitUsage;
  }
  if (options.show_help) {
    rsv::print_usage(stdout);
    return rsv::kExitReply;
  }
  return rsv::run(options);
}
