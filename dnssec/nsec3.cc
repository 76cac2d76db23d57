#include "dnssec/nsec3.h"

#include <algorithm>
#include <unordered_map>

#include "dnssec/nsec.h"

namespace rsv {

namespace {
constexpr const char *kBase32HexAlphabet = "0123456789abcdefghijklmnopqrstuv";

int base32hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = dns_tolower(c);
  if (c >= 'a' && c <= 'v') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::string base32hex_encode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (char byte : bytes) {
    buffer = (buffer << 8) | static_cast<uint8_t>(byte);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text.push_back(kBase32HexAlphabet[(buffer >> bits) & 0x1f]);
    }
  }
  if (bits > 0) text.push_back(kBase32HexAlphabet[(buffer << (5 - bits)) & 0x1f]);
  return text;
}

std::optional<std::string> base32hex_decode(std::string_view text) {
  // RFC 4648 6: a group of 8 characters carries 5 octets; without padding, the last
  // group has 2, 4, 5 or 7 characters (1 to 4 octets).
  size_t remainder = text.size() % 8;
  if (remainder == 1 || remainder == 3 || remainder == 6) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = base32hex_value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return bytes;
}

std::optional<Nsec3Rdata> parse_nsec3_rdata(std::string_view rdata) {
  // RFC 5155 3.2: algorithm, flags, iterations (2), salt length, salt, hash length,
  // next hashed owner name, type bit maps.
  if (rdata.size() < 5) return std::nullopt;
  Nsec3Rdata parsed;
  parsed.hash_algorithm = static_cast<uint8_t>(rdata[0]);
  parsed.flags = static_cast<uint8_t>(rdata[1]);
  parsed.iterations =
      static_cast<uint16_t>((static_cast<uint8_t>(rdata[2]) << 8) | static_cast<uint8_t>(rdata[3]));
  size_t salt_length = static_cast<uint8_t>(rdata[4]);
  size_t pos = 5;
  if (rdata.size() < pos + salt_length + 1) return std::nullopt;
  parsed.salt = std::string(rdata.substr(pos, salt_length));
  pos += salt_length;
  size_t hash_length = static_cast<uint8_t>(rdata[pos]);
  ++pos;
  if (hash_length == 0 || rdata.size() < pos + hash_length) return std::nullopt;
  parsed.next_hashed_owner = std::string(rdata.substr(pos, hash_length));
  pos += hash_length;
  parsed.bitmap = std::string(rdata.substr(pos));
  if (!nsec_bitmap_valid(parsed.bitmap)) return std::nullopt;
  return parsed;
}

namespace {

// An NSEC3 that can take part in a proof, with its owner hash decoded once.
struct UsableNsec3 {
  Name owner;
  std::string owner_hash;  // raw octets
  Nsec3Rdata rdata;

  bool has(uint16_t type) const { return nsec_bitmap_has(rdata.bitmap, type); }
  // RFC 5155 8.3: hashes are compared as unsigned octet strings. The last NSEC3 of
  // the chain wraps (next <= owner) and covers everything after its owner hash and
  // before the first.
  bool covers(const std::string &hash) const {
    const std::string &next = rdata.next_hashed_owner;
    if (owner_hash < next) return owner_hash < hash && hash < next;
    return owner_hash < hash || hash < next;
  }
};

struct Selection {
  std::vector<UsableNsec3> records;
  std::optional<ValidationOutcome> verdict;  // set when the answer is decided before any hashing
};

ValidationOutcome budget_exceeded(const std::string &what) {
  return ValidationOutcome::bogus(ede::DNSSEC_BOGUS, "NSEC3 budget exceeded: " + what);
}

ValidationOutcome not_proven(const std::string &what, const Name &zone) {
  return ValidationOutcome::bogus(ede::NSEC_MISSING, what + " (zone " + zone.to_text() + ")");
}

// RFC 5155 8.1 and 8.2, RFC 9276 3.2: which NSEC3 records may be used (see nsec3.h).
Selection select_nsec3s(const std::vector<ResourceRecord> &records, const Name &zone,
                        ValidationBudget &budget) {
  Selection selection;
  const size_t count = static_cast<size_t>(
      std::count_if(records.begin(), records.end(), [](const ResourceRecord &rr) { return rr.type == rrtype::NSEC3; }));
  if (!budget.allows_nsec3_records(count)) {
    selection.verdict = budget_exceeded("more than " + std::to_string(budget.limits().max_nsec3_per_response) +
                                        " NSEC3 records in one response");
    return selection;
  }
  uint16_t highest_iterations = 0;
  for (const auto &record : records) {
    if (record.type != rrtype::NSEC3) continue;
    if (record.owner.label_count() != zone.label_count() + 1 || record.owner.parent() != zone) continue;
    auto rdata = parse_nsec3_rdata(record.rdata);
    if (!rdata || rdata->hash_algorithm != nsec3::kHashSha1) continue;  // RFC 5155 8.1: unknown algorithm
    if ((rdata->flags & ~nsec3::kFlagOptOut) != 0) continue;            // RFC 5155 8.2: unknown flags
    auto owner_hash = base32hex_decode(record.owner.first_label());
    if (!owner_hash || owner_hash->size() != nsec3::kSha1Length) continue;
    if (rdata->next_hashed_owner.size() != nsec3::kSha1Length) continue;
    if (rdata->iterations > budget.limits().max_nsec3_iterations) {
      highest_iterations = std::max(highest_iterations, rdata->iterations);
      continue;
    }
    if (!selection.records.empty()) {
      const auto &first = selection.records.front().rdata;
      if (rdata->iterations != first.iterations || rdata->salt != first.salt) continue;  // RFC 5155 7.2
    }
    selection.records.push_back(UsableNsec3{record.owner, std::move(*owner_hash), std::move(*rdata)});
  }
  if (highest_iterations > 0) {
    selection.verdict = ValidationOutcome::insecure(
        ede::UNSUPPORTED_NSEC3_ITERATIONS,
        "NSEC3 in zone " + zone.to_text() + " uses " + std::to_string(highest_iterations) +
            " iterations, more than " + std::to_string(budget.limits().max_nsec3_iterations));
  } else if (selection.records.empty()) {
    selection.verdict = not_proven("no usable NSEC3 records", zone);
  }
  return selection;
}

// Why an NSEC3 matching a name does not deny `qtype` there, or nullopt when it does
// (RFC 5155 8.5, 8.6; the delegation rules as for NSEC, RFC 6840 4.4).
std::optional<std::string> type_denial_problem(const UsableNsec3 &nsec3, const Name &name, uint16_t qtype) {
  std::string at = "NSEC3 matching " + name.to_text();
  if (nsec3.has(qtype)) return at + " lists " + type_to_text(qtype);
  if (nsec3.has(rrtype::CNAME)) return at + " lists CNAME";
  if (qtype == rrtype::DS) {
    if (nsec3.has(rrtype::SOA) && !name.is_root()) return at + " is from the child zone (SOA set)";
  } else if (nsec3.has(rrtype::NS) && !nsec3.has(rrtype::SOA)) {
    return at + " is a delegation point and cannot deny " + type_to_text(qtype);
  }
  return std::nullopt;
}

struct ClosestEncloserProof {
  Name closest_encloser;
  Name next_closer;
  const UsableNsec3 *next_closer_cover = nullptr;
};

// Hashes names (each hash paid for from the budget, each name hashed once) and finds
// the NSEC3 records that match or cover them.
class Nsec3Prover {
public:
  Nsec3Prover(std::vector<UsableNsec3> records, const Name &zone, ValidationBudget &budget,
              const Nsec3HashFunction &hash)
      : records_(std::move(records)), zone_(zone), budget_(budget), hash_(hash) {}

  bool budget_refused() const { return budget_refused_; }

  // The outcome, unless the budget ran out on the way, which overrides it.
  ValidationOutcome settle(ValidationOutcome outcome) const {
    if (budget_refused_)
      return budget_exceeded("more than " + std::to_string(budget_.limits().max_nsec3_hashes_per_query) +
                             " NSEC3 hashes for one query");
    return outcome;
  }

  const UsableNsec3 *matching(const Name &name) {
    auto hash = hash_of(name);
    if (!hash) return nullptr;
    for (const auto &record : records_)
      if (record.owner_hash == *hash) return &record;
    return nullptr;
  }

  const UsableNsec3 *covering(const Name &name) {
    auto hash = hash_of(name);
    if (!hash) return nullptr;
    for (const auto &record : records_)
      if (record.covers(*hash)) return &record;
    return nullptr;
  }

  // RFC 5155 8.3 (and 7.2.1): walking up from `name`, the first ancestor with a
  // matching NSEC3 is the closest encloser; the name one label longer, the next
  // closer name, must be covered. `name` itself must not match. On failure, sets
  // `problem` and returns nullopt.
  std::optional<ClosestEncloserProof> closest_encloser_proof(const Name &name, std::string &problem) {
    for (Name candidate = name;; candidate = candidate.parent()) {
      const UsableNsec3 *match = matching(candidate);
      if (budget_refused_) return std::nullopt;
      if (match) {
        if (candidate == name) {
          problem = "an NSEC3 matches " + name.to_text() + ": the name exists";
          return std::nullopt;
        }
        // RFC 5155 8.3: an encloser at a delegation point (NS without SOA) or with a
        // DNAME has nothing below it in this zone.
        if (match->has(rrtype::DNAME) || (match->has(rrtype::NS) && !match->has(rrtype::SOA))) {
          problem = "closest encloser " + candidate.to_text() + " of " + name.to_text() +
                    " is a delegation or DNAME";
          return std::nullopt;
        }
        Name next_closer = name.suffix(candidate.label_count() + 1);
        const UsableNsec3 *cover = covering(next_closer);
        if (!cover) {
          if (!budget_refused_) problem = "no NSEC3 covers next closer name " + next_closer.to_text();
          return std::nullopt;
        }
        return ClosestEncloserProof{candidate, next_closer, cover};
      }
      if (candidate == zone_ || candidate.is_root()) break;
    }
    problem = "no closest encloser proof for " + name.to_text();
    return std::nullopt;
  }

private:
  std::optional<std::string> hash_of(const Name &name) {
    const Name canonical = name.lowered();
    auto cached = hashes_.find(canonical.wire());
    if (cached != hashes_.end()) return cached->second;
    if (budget_refused_ || !budget_.take_nsec3_hash()) {
      budget_refused_ = true;
      return std::nullopt;
    }
    const auto &params = records_.front().rdata;  // all usable records share them
    std::string hash = hash_(canonical.wire(), params.salt, params.iterations);
    hashes_.emplace(canonical.wire(), hash);
    return hash;
  }

  std::vector<UsableNsec3> records_;
  const Name &zone_;
  ValidationBudget &budget_;
  const Nsec3HashFunction &hash_;
  std::unordered_map<std::string, std::string> hashes_;
  bool budget_refused_ = false;
};

ValidationOutcome opted_out(const std::string &what, const ClosestEncloserProof &proof, const Name &zone) {
  return ValidationOutcome::insecure(ede::OTHER, what + ": next closer name " + proof.next_closer.to_text() +
                                                     " is covered by an Opt-Out NSEC3 (zone " +
                                                     zone.to_text() + ")");
}

bool is_proper_subdomain(const Name &name, const Name &ancestor) {
  return name != ancestor && name.is_subdomain_of(ancestor);
}

}  // namespace

ValidationOutcome prove_nxdomain_nsec3(const Name &qname, const std::vector<ResourceRecord> &nsec3s,
                                       const Name &zone, ValidationBudget &budget,
                                       const Nsec3HashFunction &hash) {
  if (!qname.is_subdomain_of(zone)) return not_proven(qname.to_text() + " is outside the zone", zone);
  Selection selection = select_nsec3s(nsec3s, zone, budget);
  if (selection.verdict) return *selection.verdict;
  Nsec3Prover prover(std::move(selection.records), zone, budget, hash);

  std::string problem;
  auto proof = prover.closest_encloser_proof(qname, problem);
  if (!proof) return prover.settle(not_proven(problem, zone));
  // RFC 5155 8.4: the wildcard at the closest encloser must not exist either.
  auto wildcard = proof->closest_encloser.prepend("*");
  if (wildcard && !prover.covering(*wildcard)) {
    return prover.settle(
        not_proven("no NSEC3 covers wildcard " + wildcard->to_text() + " for " + qname.to_text(), zone));
  }
  if (proof->next_closer_cover->rdata.opt_out())
    return prover.settle(opted_out("NXDOMAIN for " + qname.to_text(), *proof, zone));
  return prover.settle(ValidationOutcome::secure());
}

ValidationOutcome prove_nodata_nsec3(const Name &qname, uint16_t qtype,
                                     const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                     ValidationBudget &budget, const Nsec3HashFunction &hash) {
  if (!qname.is_subdomain_of(zone)) return not_proven(qname.to_text() + " is outside the zone", zone);
  Selection selection = select_nsec3s(nsec3s, zone, budget);
  if (selection.verdict) return *selection.verdict;
  Nsec3Prover prover(std::move(selection.records), zone, budget, hash);

  // RFC 5155 8.5 and 8.6: the NSEC3 matching qname (an empty non-terminal's has an
  // empty bitmap, which passes).
  if (const UsableNsec3 *match = prover.matching(qname)) {
    auto problem = type_denial_problem(*match, qname, qtype);
    if (problem) return prover.settle(not_proven(*problem, zone));
    return prover.settle(ValidationOutcome::secure());
  }
  if (prover.budget_refused()) return prover.settle(not_proven("no NSEC3 matches " + qname.to_text(), zone));

  std::string problem;
  auto proof = prover.closest_encloser_proof(qname, problem);
  if (!proof) return prover.settle(not_proven(problem, zone));
  const bool opt_out = proof->next_closer_cover->rdata.opt_out();
  const std::string what = "NODATA for " + qname.to_text() + "/" + type_to_text(qtype);

  // RFC 5155 8.7: wildcard NODATA, the wildcard at the closest encloser matched.
  auto wildcard = proof->closest_encloser.prepend("*");
  if (wildcard) {
    if (const UsableNsec3 *at_wildcard = prover.matching(*wildcard)) {
      auto wildcard_problem = type_denial_problem(*at_wildcard, *wildcard, qtype);
      if (wildcard_problem) return prover.settle(not_proven(*wildcard_problem, zone));
      if (opt_out) return prover.settle(opted_out(what, *proof, zone));
      return prover.settle(ValidationOutcome::secure());
    }
  }
  // RFC 5155 8.6 (DS) and 8.5 as corrected by erratum 3441 (an empty non-terminal
  // above an opted-out delegation): only an Opt-Out span explains the missing match.
  if (opt_out) return prover.settle(opted_out(what, *proof, zone));
  return prover.settle(not_proven("no NSEC3 matches " + qname.to_text() + " or its wildcard", zone));
}

ValidationOutcome prove_wildcard_answer_nsec3(const Name &qname, const Name &wildcard_closest_encloser,
                                              const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                              ValidationBudget &budget, const Nsec3HashFunction &hash) {
  if (!qname.is_subdomain_of(zone) || !wildcard_closest_encloser.is_subdomain_of(zone) ||
      !is_proper_subdomain(qname, wildcard_closest_encloser)) {
    return not_proven("wildcard answer for " + qname.to_text() + " from " +
                          wildcard_closest_encloser.to_text() + " is not possible",
                      zone);
  }
  Selection selection = select_nsec3s(nsec3s, zone, budget);
  if (selection.verdict) return *selection.verdict;
  Nsec3Prover prover(std::move(selection.records), zone, budget, hash);

  // RFC 5155 8.8: the next closer name must not exist, or it would have matched.
  Name next_closer = qname.suffix(wildcard_closest_encloser.label_count() + 1);
  const UsableNsec3 *cover = prover.covering(next_closer);
  if (!cover) {
    return prover.settle(not_proven("no NSEC3 covers next closer name " + next_closer.to_text() +
                                        " of wildcard answer " + qname.to_text(),
                                    zone));
  }
  if (cover->rdata.opt_out()) {
    ClosestEncloserProof proof{wildcard_closest_encloser, next_closer, cover};
    return prover.settle(opted_out("wildcard answer for " + qname.to_text(), proof, zone));
  }
  return prover.settle(ValidationOutcome::secure());
}

ValidationOutcome prove_insecure_delegation_nsec3(const Name &child,
                                                  const std::vector<ResourceRecord> &nsec3s, const Name &zone,
                                                  ValidationBudget &budget, const Nsec3HashFunction &hash) {
  if (!is_proper_subdomain(child, zone)) return not_proven(child.to_text() + " is not below the zone", zone);
  Selection selection = select_nsec3s(nsec3s, zone, budget);
  if (selection.verdict) return *selection.verdict;
  Nsec3Prover prover(std::move(selection.records), zone, budget, hash);

  if (const UsableNsec3 *match = prover.matching(child)) {
    std::string at = "NSEC3 matching " + child.to_text();
    // RFC 5155 8.9 with RFC 6840 4.4: NS present, DS and SOA absent.
    if (!match->has(rrtype::NS)) return prover.settle(not_proven(at + " does not list NS", zone));
    if (match->has(rrtype::DS))
      return prover.settle(not_proven(at + " lists DS: the delegation is signed", zone));
    if (match->has(rrtype::SOA))
      return prover.settle(not_proven(at + " is from the child zone (SOA set)", zone));
    return prover.settle(ValidationOutcome::insecure(
        ede::OTHER,
        "delegation to " + child.to_text() + " is unsigned (NSEC3, zone " + zone.to_text() + ")"));
  }
  if (prover.budget_refused()) return prover.settle(not_proven("no NSEC3 matches " + child.to_text(), zone));

  // RFC 5155 8.6 / 7.2.4: no match; an Opt-Out span covering the next closer name
  // may hold the unsigned delegation.
  std::string problem;
  auto proof = prover.closest_encloser_proof(child, problem);
  if (!proof) return prover.settle(not_proven(problem, zone));
  if (!proof->next_closer_cover->rdata.opt_out()) {
    return prover.settle(not_proven("NSEC3 covering " + proof->next_closer.to_text() +
                                        " is not Opt-Out: no delegation to " + child.to_text() + " exists",
                                    zone));
  }
  return prover.settle(opted_out("delegation to " + child.to_text() + " is unsigned", *proof, zone));
}

}  // namespace rsv
