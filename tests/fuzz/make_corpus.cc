// Writes the seed corpora of every fuzz target (tests/fuzz/corpus/<target>/seed-*)
// and tests/fuzz/hierarchy_data.h, from one signed DNS hierarchy made here by ldns
// (tests/support/signed_hierarchy.h). Run through tests/fuzz/make_corpus.sh.
//
// Seeds should be real conversations, so that the fuzzer starts deep inside the
// code rather than at the parser's first check:
//  - upstream_reply_fuzz: the iterator (driven by the target's own driver,
//    iterator_driver.h) resolves a question against the hierarchy, and every reply
//    it is given is recorded: priming, referrals with glue and DS or NSEC/NSEC3
//    denials, answers, NXDOMAIN/NODATA proofs, CNAME and DNAME chains, a glueless
//    delegation, IPv6-only and loopback-glue servers; and broken servers (TC, FORMERR
//    without a question, REFUSED, timeouts, lame, upward referrals, garbage,
//    out-of-bailiwick data), forwarding, and a second question on warm caches.
//  - validator_fuzz: a Resolution the iterator produced for a question, then the
//    Resolutions of the DS/DNSKEY sub-questions the validator asks (each resolved by
//    the iterator too), recorded as the target's driver (validator_driver.h) asks
//    them; honest answers (secure, insecure, NSEC, NSEC3, wildcards, DNAME) and
//    forgeries made from genuinely signed records (replayed denials, changed data,
//    stripped signatures, expired or future time).
//  - parse_message_fuzz: the distinct replies of the upstream seeds;
//    dnssec_records_fuzz: RDATA of the hierarchy's RRSIG, DNSKEY, DS, NSEC, NSEC3 and
//    an NSEC3 hash label; config_fuzz: the shipped conf/*.yaml.
//
// The keys are new on every run, so the validator seeds and the anchor in
// hierarchy_data.h only go together; the generator rewrites both (and every seed-*
// file; fuzzer-found reproducers are named regress-* and kept, but a validator one
// needs remaking against the new keys). Each seed is checked against the targets'
// properties as it is recorded, so a bug the seeds themselves show stops the run.
//
// Usage: make_fuzz_corpus SOURCE_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "dnssec/nsec3.h"
#include "resolver/base/log.h"
#include "tests/fuzz/fuzz_chunks.h"
#include "tests/fuzz/hierarchy_truth.h"
#include "tests/fuzz/iterator_driver.h"
#include "tests/fuzz/resolution_codec.h"
#include "tests/fuzz/validator_driver.h"
#include "tests/support/signed_hierarchy.h"

namespace rsv::fuzz {
namespace {

namespace fs = std::filesystem;
using testing::Denial;
using testing::Nsec3Params;
using testing::SignedHierarchy;
using testing::ZoneSpec;

Name n(const std::string &text) { return *Name::from_text(text); }

constexpr const char *kLeafData = R"(
www A 192.0.2.1
www AAAA 2001:db8::1
@ MX 10 mail
mail A 192.0.2.2
alias CNAME www
*.wild A 192.0.2.3
host.ent A 192.0.2.4
wildalias CNAME x.wild
*.cwild CNAME www
txt TXT "seed"
)";

// The hierarchy: every kind of zone and delegation the iterator and validator treat
// differently. Addresses are documentation ones (RFC 5737), except lo.test's server,
// whose glue points at 127.0.0.1 (the iterator must never use it).
std::vector<ZoneSpec> specs() {
  const std::string leaf = kLeafData;
  std::vector<ZoneSpec> s;
  s.push_back({".", kRootServerAddress, "", Denial::nsec, {}, true, 13, kRootServerName});
  // nsec.test. has a second server (an alias of the first, see kSecondServers): the
  // iterator chooses between them, retries the other, and a forge on one is survivable.
  s.push_back({"test.", "198.51.100.2", "www A 192.0.2.100\nnsec NS ns2.nsec.test.\nns2.nsec A 198.51.100.16\n",
               Denial::nsec, {}, true, 13, ""});
  s.push_back({"example.", "198.51.100.3", "www A 192.0.2.50\n*.wild TXT \"wild\"\nsub.deep A 192.0.2.51\n",
               Denial::nsec3, Nsec3Params{5, std::string("\xAB\x12", 2), false}, true, 13, ""});
  s.push_back({"nsec.test.", "198.51.100.10",
               leaf + "out CNAME www.nsec3.test.\nloop1 CNAME loop2\nloop2 CNAME loop1\ndname DNAME nsec3.test.\n"
                      "@ NS ns2\nns2 A 198.51.100.16\n",
               Denial::nsec, {}, true, 13, ""});
  s.push_back({"nsec3.test.", "198.51.100.11", leaf, Denial::nsec3, Nsec3Params{0, "", false}, true, 13, ""});
  s.push_back({"optout.test.", "198.51.100.12", "www A 192.0.2.1\n*.wild A 192.0.2.3\n", Denial::nsec3,
               Nsec3Params{0, "", true}, true, 13, ""});
  s.push_back({"unsigned.optout.test.", "198.51.100.20", "www A 192.0.2.10\n", Denial::none, {}, false, 13, ""});
  s.push_back({"insecure.test.", "198.51.100.13", "www A 192.0.2.20\n", Denial::none, {}, false, 13, ""});
  s.push_back({"island.nsec3.test.", "198.51.100.21", "www A 192.0.2.30\n", Denial::nsec, {}, false, 13, ""});
  // Its server's name lives in nsec.test.: test. can give no glue (a glueless delegation).
  s.push_back({"glueless.test.", "198.51.100.14", "www A 192.0.2.40\n", Denial::nsec, {}, true, 13,
               "ns.glueless.nsec.test."});
  s.push_back({"v6.test.", "2001:db8::53", "www A 192.0.2.60\n", Denial::nsec, {}, true, 13, ""});
  s.push_back({"lo.test.", "127.0.0.1", "www A 192.0.2.70\n", Denial::none, {}, false, 13, ""});
  return s;
}

// Addresses that answer like another server of the hierarchy (a zone's second server).
const std::map<std::string, std::string> kSecondServers = {{"198.51.100.16", "198.51.100.10"}};

// A signed zone with a chain of trust from the root anchor.
bool opt_out(const ZoneSpec &spec) { return spec.denial == Denial::nsec3 && spec.nsec3.opt_out; }

bool secure_chain(const std::vector<ZoneSpec> &all, const ZoneSpec &spec) {
  if (spec.denial == Denial::none) return false;
  if (spec.origin == ".") return true;
  if (!spec.ds_in_parent) return false;
  const Name origin = n(spec.origin);
  const ZoneSpec *parent = nullptr;
  for (const auto &other : all)
    if (other.origin != spec.origin && origin.is_subdomain_of(n(other.origin)) &&
        (!parent || n(other.origin).label_count() > n(parent->origin).label_count()))
      parent = &other;
  return parent && secure_chain(all, *parent);
}

// A reply as a forger or a broken server would send it instead of the honest one: a
// message, or raw octets; nullopt is no reply at all (a timeout). Called for every
// query, in order.
using ForgedReply = std::variant<Message, std::string>;
using Forge =
    std::function<std::optional<ForgedReply>(const Message &query, const std::string &server, Message honest)>;

// Answers the iterator's queries from the hierarchy, like the servers at those
// addresses would (with DNAME substitution, which SignedAuthority lacks), and
// optionally records every reply as a chunk of a fuzz input.
class HierarchyReplies final : public UpstreamReplies {
public:
  HierarchyReplies(const SignedHierarchy &hierarchy, std::string *record, Forge forge = {})
      : hierarchy_(hierarchy), record_(record), forge_(std::move(forge)) {}

  // Every distinct reply given, for the parse_message_fuzz corpus.
  std::set<std::string> *replies_seen = nullptr;

  Reply reply(const IteratorAction &action) override {
    Edns edns;
    edns.dnssec_ok = true;
    const std::string query_wire = encode_query(next_id_++, action.question, action.recursion_desired,
                                                action.edns ? std::optional<Edns>(edns) : std::nullopt, false);
    ParseError error;
    const Message query = *parse_message(reinterpret_cast<const uint8_t *>(query_wire.data()), query_wire.size(), &error);
    std::optional<ForgedReply> reply;
    const std::string server = action.server.host_text();
    const std::string answering = kSecondServers.count(server) ? kSecondServers.at(server) : server;
    if (action.server == *SocketAddress::parse(kForwarderAddress)) {
      reply = forwarded(query);
    } else if (hierarchy_.authorities().count(answering)) {
      reply = authoritative(hierarchy_.authorities().at(answering), query);
    }
    if (reply && forge_) reply = forge_(query, server, std::get<Message>(*reply));
    if (!reply) {
      if (record_) append_chunk(*record_, "");
      return {Kind::timeout, {}};
    }
    // RFC 6891 6.2.5 / 1035 4.2.1: what fits the requester's UDP size, else TC.
    const size_t limit = action.tcp ? 65535 : action.edns ? 1232 : 512;
    std::string wire = std::holds_alternative<std::string>(*reply) ? std::get<std::string>(*reply)
                                                                   : encode_message(std::get<Message>(*reply), limit).wire;
    if (record_) append_chunk(*record_, wire);
    if (replies_seen) replies_seen->insert(wire);
    return {Kind::reply, wire};
  }

private:
  Message authoritative(const testing::SignedAuthority &authority, const Message &query) const {
    const Question &q = query.questions.at(0);
    // RFC 6672 2.3: below a DNAME of the zone that answers, the server substitutes.
    const testing::SignedZone *zone = nullptr;
    for (const auto &z : authority.zones())
      if (q.name.is_subdomain_of(z.origin) && (!zone || z.origin.label_count() > zone->origin.label_count()))
        zone = &z;
    if (zone) {
      for (const auto &rr : zone->records) {
        if (rr.type != rrtype::DNAME || rr.owner == q.name || !q.name.is_subdomain_of(rr.owner)) continue;
        Message reply = authority.answer(query);
        reply.aa = true;
        reply.rcode = rcode::NOERROR;
        reply.answer = zone->rrset_with_sigs(rr.owner, rrtype::DNAME);
        auto target = q.name.replace_suffix(rr.owner, *rr.rdata_target());
        reply.answer.push_back({q.name, rrtype::CNAME, rrclass::IN, rr.ttl, target->wire()});
        reply.authority.clear();
        reply.additional.clear();
        return reply;
      }
    }
    return authority.answer(query);
  }

  // A recursive forwarder: the whole resolution, by a nested iterator on the hierarchy.
  Message forwarded(const Message &query) const {
    IteratorOptions options;
    HierarchyReplies upstream(hierarchy_, nullptr);
    IteratorHarness harness(options);
    IteratorRun run = harness.resolve(query.questions.at(0), upstream);
    Message reply;
    reply.id = query.id;
    reply.qr = reply.rd = reply.ra = true;
    reply.questions = query.questions;
    reply.edns = query.edns;
    reply.rcode = run.finished ? run.result.rcode : rcode::SERVFAIL;
    reply.answer = run.result.answer;
    reply.authority = run.result.authority;
    return reply;
  }

  const SignedHierarchy &hierarchy_;
  std::string *record_;
  Forge forge_;
  uint16_t next_id_ = 1;
};

// Resolves a question with the iterator against the hierarchy (nothing recorded).
Resolution resolve(const SignedHierarchy &hierarchy, const Question &question) {
  HierarchyReplies upstream(hierarchy, nullptr);
  IteratorHarness harness(IteratorOptions{});
  IteratorRun run = harness.resolve(question, upstream);
  if (!run.broken.empty()) throw std::runtime_error("iterator property broken on an honest hierarchy: " + run.broken);
  if (!run.finished) throw std::runtime_error("no resolution for " + question.name.to_text());
  return run.result;
}

// A Resolution as the fuzz target will read it back.
Resolution through_codec(const Question &question, const Resolution &r, const Name &default_zone) {
  const std::string wire = encode_resolution(question, r);
  ParseError error;
  auto message = parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error);
  if (!message) throw std::runtime_error("an encoded Resolution does not parse: " + std::string(to_string(error)));
  return decode_resolution(*message, default_zone);
}

// Sub-questions answered by resolving them in the hierarchy; each answer recorded.
class HierarchyKeyAnswers final : public KeyAnswers {
public:
  HierarchyKeyAnswers(const SignedHierarchy &hierarchy, std::string &record) : hierarchy_(hierarchy), record_(record) {}
  Resolution answer(const Question &question) override {
    Resolution r = resolve(hierarchy_, question);
    append_chunk(record_, encode_resolution(question, r));
    const Name zone = question.qtype == rrtype::DS && !question.name.is_root() ? question.name.parent() : question.name;
    return through_codec(question, r, zone);
  }

private:
  const SignedHierarchy &hierarchy_;
  std::string &record_;
};

class Writer {
public:
  explicit Writer(fs::path source) : source_(std::move(source)) {}

  // Removes the old seeds of a target (reproducers, regress-*, stay).
  void clean(const std::string &target) {
    const fs::path dir = source_ / "tests/fuzz/corpus" / target;
    fs::create_directories(dir);
    for (const auto &entry : fs::directory_iterator(dir))
      if (entry.path().filename().string().rfind("seed-", 0) == 0) fs::remove(entry.path());
  }
  void write(const std::string &target, const std::string &name, const std::string &bytes) {
    const fs::path path = source_ / "tests/fuzz/corpus" / target / ("seed-" + name);
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
    bytes_[target] += bytes.size();
    ++files_[target];
  }
  void summary() const {
    for (const auto &[target, count] : files_)
      std::printf("%-22s %3zu seeds, %7zu octets\n", target.c_str(), count, bytes_.at(target));
  }
  const fs::path &source() const { return source_; }

private:
  fs::path source_;
  std::map<std::string, size_t> files_, bytes_;
};

// ---- upstream_reply_fuzz ----------------------------------------------------------

struct IteratorSeed {
  std::string name;
  std::string qname;
  IteratorOptions options;
  Forge forge;
};

IteratorOptions opts(uint16_t qtype, std::function<void(IteratorOptions &)> change = {}) {
  IteratorOptions o;
  o.qtype = qtype;
  if (change) change(o);
  return o;
}

// Forges that act on the n-th query (0-based) to the servers of one zone.
using ServerForge = std::function<std::optional<ForgedReply>(unsigned, const Message &, Message)>;
Forge on_servers(std::vector<std::string> servers, ServerForge f) {
  auto count = std::make_shared<unsigned>(0);
  return [=](const Message &query, const std::string &to, Message honest) -> std::optional<ForgedReply> {
    if (std::find(servers.begin(), servers.end(), to) == servers.end()) return honest;
    return f((*count)++, query, std::move(honest));
  };
}

Message bare(const Message &query, uint16_t code, bool with_question = true) {
  Message m;
  m.id = query.id;
  m.qr = true;
  m.rcode = code;
  if (with_question) m.questions = query.questions;
  return m;
}

std::vector<IteratorSeed> iterator_seeds(const SignedHierarchy &hierarchy) {
  using O = IteratorOptions;
  std::vector<IteratorSeed> seeds = {
      {"answer-nsec", "www.nsec.test.", opts(rrtype::A), {}},
      {"answer-no-minimisation-no-priming", "www.nsec.test.",
       opts(rrtype::A, [](O &o) { o.qname_minimisation = false, o.prime_root = false; }), {}},
      {"answer-nsec3-aaaa", "www.nsec3.test.", opts(rrtype::AAAA), {}},
      {"nxdomain-nsec", "nx.nsec.test.", opts(rrtype::A), {}},
      {"nxdomain-nsec3", "nx.nsec3.test.", opts(rrtype::A), {}},
      {"nxdomain-nsec3-salted", "nx.example.", opts(rrtype::A), {}},
      {"nodata-nsec", "www.nsec.test.", opts(rrtype::TXT), {}},
      {"nodata-empty-non-terminal", "ent.nsec.test.", opts(rrtype::A), {}},
      {"cname-in-zone", "alias.nsec.test.", opts(rrtype::A), {}},
      {"cname-out-of-zone", "out.nsec.test.", opts(rrtype::A), {}},
      {"cname-loop", "loop1.nsec.test.", opts(rrtype::A), {}},
      {"wildcard", "a.b.wild.nsec.test.", opts(rrtype::A), {}},
      {"wildcard-cname", "x.cwild.nsec3.test.", opts(rrtype::A), {}},
      {"dname", "x.dname.nsec.test.", opts(rrtype::A), {}},
      {"dname-to-existing", "www.dname.nsec.test.", opts(rrtype::AAAA), {}},
      {"deep-minimised-nxdomain", "a.b.c.d.e.f.g.host.ent.nsec.test.", opts(rrtype::A), {}},
      {"optout-unsigned-child", "www.unsigned.optout.test.", opts(rrtype::A), {}},
      {"insecure-delegation", "www.insecure.test.", opts(rrtype::A), {}},
      {"island", "www.island.nsec3.test.", opts(rrtype::A), {}},
      {"glueless", "www.glueless.test.", opts(rrtype::A), {}},
      {"glueless-subqueries-refused", "www.glueless.test.",
       opts(rrtype::A, [](O &o) { o.nested_subqueries = false; }), {}},
      {"ipv6-only-server", "www.v6.test.", opts(rrtype::A, [](O &o) { o.do_ip6 = true; }), {}},
      {"ipv6-only-server-no-ipv6", "www.v6.test.", opts(rrtype::A), {}},
      {"loopback-glue", "www.lo.test.", opts(rrtype::A), {}},
      {"ds-at-parent", "nsec.test.", opts(rrtype::DS), {}},
      {"dnskey", "nsec3.test.", opts(rrtype::DNSKEY), {}},
      {"priming-question", ".", opts(rrtype::NS), {}},
      {"mx-then-a-warm-cache", "nsec.test.",
       opts(rrtype::MX, [](O &o) { o.second_question = true, o.second_qtype = rrtype::A; }), {}},
      {"a-then-aaaa-expired", "www.example.",
       opts(rrtype::A, [](O &o) { o.second_question = true, o.second_qtype = rrtype::AAAA, o.expire_between = true; }),
       {}},
      {"forwarding", "www.nsec.test.", opts(rrtype::A, [](O &o) { o.forward_all = true; }), {}},
      {"forwarding-nxdomain", "nx.nsec3.test.", opts(rrtype::A, [](O &o) { o.forward_all = true; }), {}},
      {"no-glue-hardening", "www.nsec3.test.", opts(rrtype::A, [](O &o) { o.harden_glue = false; }), {}},
  };
  const std::vector<std::string> test_server = {"198.51.100.2"}, nsec_servers = {"198.51.100.10", "198.51.100.16"};
  // Broken servers and forgers, each on top of an honest resolution.
  seeds.push_back({"truncated-then-tcp", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [](unsigned i, const Message &, Message honest) -> std::optional<ForgedReply> {
                     if (i == 0) honest.tc = true, honest.answer.clear(), honest.authority.clear();
                     return honest;
                   })});
  seeds.push_back({"formerr-without-question-twice", "www.nsec.test.", opts(rrtype::A),
                   on_servers(test_server, [](unsigned i, const Message &q, Message honest) -> std::optional<ForgedReply> {
                     if (i < 2) return bare(q, rcode::FORMERR, false);
                     return honest;
                   })});
  seeds.push_back({"refused-then-answer", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [](unsigned i, const Message &q, Message honest) -> std::optional<ForgedReply> {
                     if (i == 0) return bare(q, rcode::REFUSED);
                     return honest;
                   })});
  seeds.push_back({"servfail-then-answer", "www.nsec3.test.", opts(rrtype::A),
                   on_servers({"198.51.100.11"}, [](unsigned i, const Message &q, Message honest) -> std::optional<ForgedReply> {
                     if (i == 0) return bare(q, rcode::SERVFAIL);
                     return honest;
                   })});
  seeds.push_back({"timeouts", "www.nsec.test.", opts(rrtype::A),
                   on_servers({kRootServerAddress}, [](unsigned i, const Message &, Message honest) -> std::optional<ForgedReply> {
                     if (i == 0 || i == 2) return std::nullopt;
                     return honest;
                   })});
  seeds.push_back({"lame-not-authoritative", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [](unsigned i, const Message &, Message honest) -> std::optional<ForgedReply> {
                     if (i == 0) honest.aa = false;  // the first server asked is lame, the other is not
                     return honest;
                   })});
  seeds.push_back({"referral-upwards", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [&hierarchy](unsigned, const Message &q, Message) -> std::optional<ForgedReply> {
                     Message m = bare(q, rcode::NOERROR);
                     m.authority = hierarchy.records(n("test.")).rrset(n("test."), rrtype::NS);
                     return m;
                   })});
  seeds.push_back({"garbage-reply", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [](unsigned i, const Message &, Message honest) -> std::optional<ForgedReply> {
                     if (i != 0) return honest;
                     // A header claiming a question, then a pointer to itself.
                     return std::string("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xC0\x0C", 14);
                   })});
  seeds.push_back({"out-of-bailiwick-data", "www.nsec.test.", opts(rrtype::A),
                   on_servers(nsec_servers, [&hierarchy](unsigned, const Message &, Message honest) -> std::optional<ForgedReply> {
                     // Poison attempts: another zone's address in the answer and as glue.
                     auto other = hierarchy.records(n("nsec3.test.")).rrset_with_sigs(n("www.nsec3.test."), rrtype::A);
                     honest.answer.insert(honest.answer.end(), other.begin(), other.end());
                     honest.additional.push_back({n("ns.test."), rrtype::A, rrclass::IN, 86400, std::string("\x7F\0\0\1", 4)});
                     return honest;
                   })});
  seeds.push_back({"referral-with-loopback-glue", "www.nsec.test.", opts(rrtype::A),
                   on_servers(test_server, [](unsigned, const Message &, Message honest) -> std::optional<ForgedReply> {
                     for (auto &rr : honest.additional)
                       if (rr.type == rrtype::A) rr.rdata = std::string("\x7F\0\0\1", 4);
                     return honest;
                   })});
  return seeds;
}

// ---- validator_fuzz ---------------------------------------------------------------

struct ValidatorSeed {
  std::string name;
  std::string qname;
  uint16_t qtype;
  ValidatorOptions options;
  // Changes the honest Resolution into a forgery (null: honest).
  std::function<void(Resolution &)> tamper;
};

ValidatorOptions vopts(std::function<void(ValidatorOptions &)> change = {}) {
  ValidatorOptions o;
  if (change) change(o);
  return o;
}

std::vector<ValidatorSeed> validator_seeds(const SignedHierarchy &hierarchy) {
  using V = ValidatorOptions;
  auto authority_of = [&hierarchy](const std::string &name, uint16_t type) {
    return resolve(hierarchy, Question{n(name), type, rrclass::IN}).authority;
  };
  std::vector<ValidatorSeed> seeds = {
      {"secure-answer-nsec", "www.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-answer-nsec3", "www.nsec3.test.", rrtype::AAAA, vopts(), {}},
      {"secure-nxdomain-nsec", "nx.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-nxdomain-nsec3", "nx.nsec3.test.", rrtype::A, vopts(), {}},
      {"secure-nxdomain-nsec3-salted", "nx.example.", rrtype::A, vopts(), {}},
      {"secure-nodata-nsec", "www.nsec.test.", rrtype::TXT, vopts(), {}},
      {"secure-nodata-nsec3", "www.nsec3.test.", rrtype::MX, vopts(), {}},
      {"secure-nodata-empty-non-terminal", "ent.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-wildcard-nsec", "a.b.wild.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-wildcard-nsec3", "a.wild.nsec3.test.", rrtype::A, vopts(), {}},
      {"secure-wildcard-nodata", "a.wild.nsec.test.", rrtype::MX, vopts(), {}},
      {"secure-wildcard-salted", "x.wild.example.", rrtype::TXT, vopts(), {}},
      {"secure-cname", "alias.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-cname-across-zones", "out.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-dname", "www.dname.nsec.test.", rrtype::A, vopts(), {}},
      {"secure-dnskey", "nsec.test.", rrtype::DNSKEY, vopts(), {}},
      {"secure-ds", "nsec3.test.", rrtype::DS, vopts(), {}},
      {"secure-no-ds-for-insecure-child", "insecure.test.", rrtype::DS, vopts(), {}},
      {"insecure-optout", "www.unsigned.optout.test.", rrtype::A, vopts(), {}},
      {"insecure-optout-nxdomain", "nx.optout.test.", rrtype::A, vopts(), {}},
      {"insecure-delegation", "www.insecure.test.", rrtype::A, vopts(), {}},
      {"insecure-island", "www.island.nsec3.test.", rrtype::A, vopts(), {}},
      {"insecure-negative-anchor", "www.nsec3.test.", rrtype::A, vopts([](V &o) { o.negative_anchor = true; }), {}},
      {"glueless-zone", "www.glueless.test.", rrtype::A, vopts(), {}},
      {"caches-and-second-pass", "nx.nsec.test.", rrtype::A,
       vopts([](V &o) { o.aggressive_cache = o.rrset_cache = o.second_pass = true; }), {}},
      {"caches-second-pass-nsec3", "a.wild.nsec3.test.", rrtype::A,
       vopts([](V &o) { o.aggressive_cache = o.rrset_cache = o.second_pass = true; }), {}},
      {"bogus-expired", "www.nsec.test.", rrtype::A, vopts([](V &o) { o.time = 1; }), {}},
      {"bogus-not-yet-valid", "www.nsec3.test.", rrtype::A, vopts([](V &o) { o.time = 2; }), {}},
      {"near-expiry-ttl-capped", "www.nsec.test.", rrtype::A, vopts([](V &o) { o.time = 3; }), {}},
  };
  // Forgeries from genuinely signed records.
  seeds.push_back({"forged-changed-address", "www.nsec.test.", rrtype::A, vopts(), [](Resolution &r) {
                     for (auto &rr : r.answer)
                       if (rr.type == rrtype::A) rr.rdata[3] = static_cast<char>(rr.rdata[3] ^ 1);
                   }});
  seeds.push_back({"forged-stripped-signatures", "www.nsec3.test.", rrtype::A, vopts(), [](Resolution &r) {
                     std::erase_if(r.answer, [](const ResourceRecord &rr) { return rr.type == rrtype::RRSIG; });
                   }});
  seeds.push_back({"forged-nxdomain-with-other-names-proof", "www.nsec.test.", rrtype::A, vopts(),
                   [proof = authority_of("nx.nsec.test.", rrtype::A)](Resolution &r) {
                     r.rcode = rcode::NXDOMAIN;
                     r.answer.clear();
                     r.sources.clear();
                     r.authority = proof;
                   }});
  seeds.push_back({"forged-nodata-ds-replayed", "nsec.test.", rrtype::DS, vopts(),
                   [proof = authority_of("insecure.test.", rrtype::DS)](Resolution &r) {
                     r.answer.clear();
                     r.sources.clear();
                     r.authority = proof;
                   }});
  seeds.push_back({"forged-nxdomain-from-child-zone", "www.nsec3.test.", rrtype::A, vopts(),
                   [proof = authority_of("nx.island.nsec3.test.", rrtype::A)](Resolution &r) {
                     r.rcode = rcode::NXDOMAIN;
                     r.answer.clear();
                     r.sources.clear();
                     r.authority = proof;
                   }});
  seeds.push_back({"forged-wildcard-without-proof", "a.b.wild.nsec.test.", rrtype::A, vopts(),
                   [](Resolution &r) { r.authority.clear(); }});
  seeds.push_back({"forged-nodata-nsec3-other-type", "www.nsec3.test.", rrtype::A, vopts(),
                   [proof = authority_of("www.nsec3.test.", rrtype::TXT)](Resolution &r) {
                     r.answer.clear();
                     r.sources.clear();
                     r.authority = proof;
                   }});
  // Denials assembled from the zone's own signed records, each one check away from
  // passing: the seeds a fuzzer needs to reach the checks that stop them.
  auto denial = [&hierarchy](const char *zone, uint16_t code, std::vector<std::vector<ResourceRecord>> parts) {
    return [&hierarchy, zone, code, parts](Resolution &r) {
      const testing::SignedZone &records = hierarchy.records(n(zone));
      r.rcode = code;
      r.answer.clear();
      r.sources.clear();
      r.zone = n(zone);
      r.authority = records.rrset_with_sigs(n(zone), rrtype::SOA);
      for (const auto &part : parts) r.authority.insert(r.authority.end(), part.begin(), part.end());
    };
  };
  const testing::SignedZone &nsec_zone = hierarchy.records(n("nsec.test."));
  const testing::SignedZone &nsec3_zone = hierarchy.records(n("nsec3.test."));
  seeds.push_back({"forged-nxdomain-hiding-wildcard", "x.wild.nsec.test.", rrtype::A, vopts(),
                   denial("nsec.test.", rcode::NXDOMAIN, {nsec_zone.nsec_covering(n("x.wild.nsec.test."))})});
  seeds.push_back({"forged-nxdomain-hiding-wildcard-nsec3", "x.wild.nsec3.test.", rrtype::A, vopts(),
                   denial("nsec3.test.", rcode::NXDOMAIN,
                          {nsec3_zone.nsec3_matching(n("wild.nsec3.test.")), nsec3_zone.nsec3_covering(n("x.wild.nsec3.test.")),
                           nsec3_zone.nsec3_matching(n("*.wild.nsec3.test."))})});
  seeds.push_back({"forged-nodata-type-listed", "www.nsec.test.", rrtype::A, vopts(),
                   denial("nsec.test.", rcode::NOERROR, {nsec_zone.nsec_matching(n("www.nsec.test."))})});
  seeds.push_back({"forged-nodata-hiding-cname", "alias.nsec.test.", rrtype::A, vopts(),
                   denial("nsec.test.", rcode::NOERROR, {nsec_zone.nsec_matching(n("alias.nsec.test."))})});
  seeds.push_back({"forged-nxdomain-under-dname", "x.dname.nsec.test.", rrtype::A, vopts(),
                   denial("nsec.test.", rcode::NXDOMAIN,
                          {nsec_zone.nsec_covering(n("x.dname.nsec.test.")), nsec_zone.nsec_covering(n("*.dname.nsec.test."))})});
  seeds.push_back({"forged-ds-denied-by-child-apex", "nsec.test.", rrtype::DS, vopts(),
                   denial("nsec.test.", rcode::NOERROR, {nsec_zone.nsec_matching(n("nsec.test."))})});
  seeds.push_back({"cached-status-taken-on-trust", "www.insecure.test.", rrtype::A, vopts(), [](Resolution &r) {
                     for (auto &s : r.sources) s.security = Security::secure;
                   }});
  return seeds;
}

// ---- dnssec_records_fuzz and hierarchy_data.h --------------------------------------

std::vector<std::pair<std::string, std::string>> record_seeds(const SignedHierarchy &hierarchy) {
  std::vector<std::pair<std::string, std::string>> out;
  std::map<uint16_t, int> taken;
  for (const char *origin : {"nsec.test.", "nsec3.test.", "example.", "test."}) {
    for (const auto &rr : hierarchy.records(n(origin)).records) {
      if (rr.type != rrtype::RRSIG && rr.type != rrtype::DNSKEY && rr.type != rrtype::DS &&
          rr.type != rrtype::NSEC && rr.type != rrtype::NSEC3)
        continue;
      if (taken[rr.type]++ >= 3) continue;
      out.push_back({type_to_text(rr.type) + "-" + std::to_string(taken[rr.type]), rr.rdata});
      if (rr.type == rrtype::NSEC3 && taken[rr.type] == 1)
        out.push_back({"base32hex-hash", std::string(rr.owner.first_label())});
    }
  }
  return out;
}

// Raw string delimiter for the zone text (it contains quotes, never this).
constexpr const char *kDelimiter = "zone";

std::string hierarchy_data(const SignedHierarchy &hierarchy, const std::vector<ZoneSpec> &all) {
  std::ostringstream out;
  out << "// Generated by tests/fuzz/make_corpus.cc (tests/fuzz/make_corpus.sh): do not edit.\n"
         "//\n"
         "// The trust anchor of the hierarchy that signed tests/fuzz/corpus/validator_fuzz/, and\n"
         "// what each of its zones holds (no RRSIG or NSEC3 records), for validator_fuzz's\n"
         "// soundness oracle (hierarchy_truth.h). The keys were made when the seeds were; the\n"
         "// two only go together.\n"
         "#pragma once\n\nnamespace rsv::fuzz::generated {\n\n"
         "inline constexpr const char *kTrustAnchors = \""
      << hierarchy.trust_anchor().ds.at(0).to_text() << "\\n\";\n\n"
      << "struct ZoneData {\n  const char *origin;\n  bool secure_chain;\n  bool opt_out;\n  const char *records;\n};\n\n"
      << "inline constexpr ZoneData kZones[] = {\n";
  for (const auto &spec : all) {
    out << "    {\"" << spec.origin << "\", " << (secure_chain(all, spec) ? "true" : "false") << ", "
        << (opt_out(spec) ? "true" : "false") << ", R\"" << kDelimiter
        << "(\n";
    for (const auto &rr : hierarchy.records(n(spec.origin)).records)
      if (rr.type != rrtype::RRSIG && rr.type != rrtype::NSEC3) out << rr.to_text() << "\n";
    out << ")" << kDelimiter << "\"},\n";
  }
  out << "};\n\n}  // namespace rsv::fuzz::generated\n";
  return out.str();
}

HierarchyTruth truth_of(const SignedHierarchy &hierarchy, const std::vector<ZoneSpec> &all) {
  std::vector<HierarchyTruth::Zone> zones;
  for (const auto &spec : all) {
    HierarchyTruth::Zone z{n(spec.origin), secure_chain(all, spec), opt_out(spec), {}};
    for (const auto &rr : hierarchy.records(z.origin).records)
      if (rr.type != rrtype::RRSIG && rr.type != rrtype::NSEC3) z.records.push_back(rr);
    zones.push_back(std::move(z));
  }
  return HierarchyTruth(std::move(zones));
}

int run(const fs::path &source) {
  set_log_severity(LogSeverity::error);
  const auto all = specs();
  const SignedHierarchy hierarchy = SignedHierarchy::build(all);
  const HierarchyTruth truth = truth_of(hierarchy, all);
  Writer writer(source);

  {
    std::ofstream out(source / "tests/fuzz/hierarchy_data.h");
    out << hierarchy_data(hierarchy, all);
    if (!out) throw std::runtime_error("cannot write hierarchy_data.h");
  }

  std::set<std::string> replies;
  writer.clean("upstream_reply_fuzz");
  for (const auto &seed : iterator_seeds(hierarchy)) {
    std::string input = seed.options.to_header();
    append_chunk(input, seed.qname);
    HierarchyReplies upstream(hierarchy, &input, seed.forge);
    upstream.replies_seen = &replies;
    std::vector<IteratorRun> runs;
    const std::string broken = run_iterator_questions(seed.options, n(seed.qname), upstream, &runs);
    if (!broken.empty()) throw std::runtime_error("seed " + seed.name + " breaks an iterator property: " + broken);
    std::printf("upstream %-36s", seed.name.c_str());
    for (const auto &r : runs)
      std::printf(" %s%s/%zu answers, %zu sends", r.finished ? "" : "unfinished ", rcode_to_text(r.result.rcode).c_str(),
                  r.result.answer.size(), r.sends);
    std::printf("\n");
    writer.write("upstream_reply_fuzz", seed.name, input);
  }

  writer.clean("validator_fuzz");
  for (const auto &seed : validator_seeds(hierarchy)) {
    const Question question{n(seed.qname), seed.qtype, rrclass::IN};
    Resolution resolution = resolve(hierarchy, question);
    if (seed.tamper) seed.tamper(resolution);
    std::string input = seed.options.to_header();
    append_chunk(input, encode_resolution(question, resolution));
    const Resolution read_back = through_codec(question, resolution, Name::root());
    ValidatorHarness harness(hierarchy.trust_anchors(), seed.options, &truth);
    HierarchyKeyAnswers answers(hierarchy, input);
    std::printf("validator %-40s", seed.name.c_str());
    for (int pass = 0; pass < (seed.options.second_pass ? 2 : 1); ++pass) {
      ValidatorRun run = harness.validate(question, read_back, answers);
      if (!run.broken.empty()) throw std::runtime_error("seed " + seed.name + " breaks a validator property: " + run.broken);
      std::printf(" %s %s (%zu sub-questions%s%s)", to_string(run.result.security), rcode_to_text(run.result.rcode).c_str(),
                  run.subqueries, run.result.error ? ", " : "",
                  run.result.error ? run.result.error->extra_text.substr(0, 60).c_str() : "");
    }
    std::printf("\n");
    writer.write("validator_fuzz", seed.name, input);
  }

  writer.clean("parse_message_fuzz");
  size_t index = 0;
  for (const auto &wire : replies) writer.write("parse_message_fuzz", "reply-" + std::to_string(++index), wire);
  Edns edns;
  edns.dnssec_ok = true;
  writer.write("parse_message_fuzz", "query",
               encode_query(7, Question{n("www.nsec.test."), rrtype::A, rrclass::IN}, true, edns, true));

  writer.clean("dnssec_records_fuzz");
  for (const auto &[name, bytes] : record_seeds(hierarchy)) writer.write("dnssec_records_fuzz", name, bytes);

  writer.clean("config_fuzz");
  for (const char *file : {"resolver.yaml", "example-forwarding.yaml"}) {
    std::ifstream in(source / "conf" / file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error(std::string("cannot read conf/") + file);
    writer.write("config_fuzz", file, text.str());
  }
  writer.summary();
  return 0;
}

}  // namespace
}  // namespace rsv::fuzz

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR\n", argv[0]);
    return 2;
  }
  try {
    return rsv::fuzz::run(argv[1]);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "make_fuzz_corpus: %s\n", e.what());
    return 1;
  }
}
