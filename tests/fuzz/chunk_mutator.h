// Seeded, structure-aware mutations of the fuzz inputs that are conversations
// (tests/fuzz/fuzz_chunks.h: header octets, then length-prefixed chunks), used twice:
//  - by upstream_reply_fuzz and validator_fuzz as libFuzzer's custom mutator and
//    crossover (custom_mutate, custom_cross_over), so that mutations keep the length
//    prefixes intact and act on whole records: libFuzzer's own byte mutations
//    rarely get past a broken length, and never move a record from one reply to
//    another the way a forger replays signed data;
//  - by the deterministic replays of both targets in tests/unit/.
// The mutations do what a forger or a broken server does to a DNS exchange: drop,
// move, repeat and replay records between messages, change rcodes and flags, cut
// messages short, lose or repeat whole replies; crossover replays records and
// replies from another conversation. SplitMix64 makes them the same everywhere.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/wire/message.h"
#include "tests/fuzz/fuzz_chunks.h"
#include "tests/unit/split_mix.h"

namespace rsv::fuzz {

using testing::SplitMix64;

struct ChunkedInput {
  std::string header;
  std::vector<std::string> chunks;

  static ChunkedInput split(std::string_view input, size_t header_size) {
    ChunkedInput out;
    out.header = std::string(input.substr(0, std::min(header_size, input.size())));
    ChunkReader reader(reinterpret_cast<const uint8_t *>(input.data()) + out.header.size(),
                             input.size() - out.header.size());
    while (auto chunk = reader.chunk()) out.chunks.emplace_back(*chunk);
    return out;
  }
  std::string join() const {
    std::string out = header;
    for (const auto &chunk : chunks) append_chunk(out, chunk);
    return out;
  }
};

// Types a forger would swap a question's or a record's type for.
inline constexpr uint16_t kMutationTypes[] = {rrtype::A,   rrtype::AAAA,   rrtype::NS,   rrtype::CNAME, rrtype::SOA,
                                              rrtype::MX,  rrtype::TXT,    rrtype::DS,   rrtype::DNSKEY, rrtype::NSEC,
                                              rrtype::NSEC3, rrtype::DNAME, rrtype::RRSIG, rrtype::ANY};

// One mutation; chunks before `first_message` (the question name) are left alone
// except by byte-level changes.
inline void mutate_chunked(ChunkedInput &input, SplitMix64 &rng, size_t first_message) {
  auto parse = [](const std::string &wire) {
    ParseError error;
    return parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error);
  };
  auto sections = [](Message &m) { return std::vector<std::vector<ResourceRecord> *>{&m.answer, &m.authority, &m.additional}; };
  const size_t messages = input.chunks.size() > first_message ? input.chunks.size() - first_message : 0;
  const unsigned kind = static_cast<unsigned>(rng.below(13));
  if (kind == 0 || messages == 0) {  // a header option
    if (!input.header.empty()) input.header[rng.below(input.header.size())] ^= static_cast<char>(1 << rng.below(8));
    return;
  }
  const size_t index = first_message + rng.below(messages);
  if (kind == 1) {  // a bit in a message
    std::string &chunk = input.chunks[index];
    if (!chunk.empty()) chunk[rng.below(chunk.size())] ^= static_cast<char>(1 << rng.below(8));
    return;
  }
  if (kind == 2) {  // a message cut short
    input.chunks[index].resize(rng.below(input.chunks[index].size() + 1));
    return;
  }
  if (kind == 3) {  // a reply lost, or one repeated
    if (rng.below(2)) input.chunks.erase(input.chunks.begin() + static_cast<std::ptrdiff_t>(index));
    else input.chunks.insert(input.chunks.begin() + static_cast<std::ptrdiff_t>(index), input.chunks[index]);
    return;
  }
  auto message = parse(input.chunks[index]);
  if (!message) return;
  // Names and types of the whole conversation, for swaps that keep to what a forger has.
  std::vector<Name> names;
  std::vector<uint16_t> types(std::begin(kMutationTypes), std::end(kMutationTypes));
  for (size_t i = first_message; i < input.chunks.size(); ++i)
    if (auto other = (i == index ? message : parse(input.chunks[i])))
      for (auto *section : sections(*other))
        for (const auto &rr : *section) names.push_back(rr.owner), types.push_back(rr.type);
  auto parts = sections(*message);
  std::vector<ResourceRecord> &from = *parts[rng.below(parts.size())];
  switch (kind) {
    case 4:  // a record dropped
      if (!from.empty()) from.erase(from.begin() + static_cast<std::ptrdiff_t>(rng.below(from.size())));
      break;
    case 5:  // a record moved to another section
      if (!from.empty()) {
        const size_t at = rng.below(from.size());
        parts[rng.below(parts.size())]->push_back(from[at]);
        from.erase(from.begin() + static_cast<std::ptrdiff_t>(at));
      }
      break;
    case 6: {  // an RRset (with its RRSIGs) replayed from another message of the conversation
      auto other = parse(input.chunks[first_message + rng.below(messages)]);
      if (!other) break;
      auto other_parts = sections(*other);
      const auto &source = *other_parts[rng.below(other_parts.size())];
      if (source.empty()) break;
      const ResourceRecord pick = source[rng.below(source.size())];
      for (const auto &rr : source)
        if (rr.owner == pick.owner &&
            (rr.type == pick.type || (rr.type == rrtype::RRSIG && rr.rrsig_type_covered() == pick.type)))
          from.push_back(rr);
      break;
    }
    case 7: {  // rcode and flags
      static const uint16_t kRcodes[] = {rcode::NOERROR, rcode::NXDOMAIN, rcode::SERVFAIL, rcode::REFUSED, rcode::FORMERR};
      switch (rng.below(3)) {
        case 0: message->rcode = kRcodes[rng.below(std::size(kRcodes))]; break;
        case 1: message->aa = !message->aa; break;
        default: message->tc = !message->tc; break;
      }
      break;
    }
    case 8:  // a TTL
      if (!from.empty()) from[rng.below(from.size())].ttl = static_cast<uint32_t>(rng.next());
      break;
    case 9:  // an RDATA octet
      if (!from.empty()) {
        auto &rr = from[rng.below(from.size())];
        if (!rr.rdata.empty()) rr.rdata[rng.below(rr.rdata.size())] ^= static_cast<char>(1 << rng.below(8));
      }
      break;
    case 10: {  // the question: another type, or another name of the conversation (or one above or below it)
      if (message->questions.empty()) break;
      Question &q = message->questions[0];
      if (rng.below(2)) {
        q.qtype = types[rng.below(types.size())];
      } else if (!names.empty()) {
        Name name = names[rng.below(names.size())];
        if (rng.below(4) == 0 && !name.is_root()) name = name.parent();
        if (rng.below(4) == 0) name = name.prepend(rng.below(2) ? "*" : "x").value_or(name);
        q.name = name;
      }
      break;
    }
    case 11:  // a record's type
      if (!from.empty()) from[rng.below(from.size())].type = types[rng.below(types.size())];
      break;
    default:  // a record's owner: another name of the conversation
      if (!from.empty() && !names.empty()) from[rng.below(from.size())].owner = names[rng.below(names.size())];
      break;
  }
  input.chunks[index] = encode_message(*message).wire;
}

// libFuzzer's byte-level mutator (LLVMFuzzerMutate), passed in so that the unit
// tests, which have no libFuzzer, can include this file.
using ByteMutator = size_t (*)(uint8_t *data, size_t size, size_t max_size);

// LLVMFuzzerCustomMutator: one time in four libFuzzer's own mutation of the whole
// input (it may break the framing: inputs that do are valid too), one in four its
// mutation of one message, otherwise 1-3 structured mutations.
inline size_t custom_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed, size_t header_size,
                            size_t first_message, ByteMutator byte_mutator) {
  SplitMix64 rng(seed);
  const unsigned how = static_cast<unsigned>(rng.below(4));
  if (how == 0) return byte_mutator(data, size, max_size);
  ChunkedInput input = ChunkedInput::split(std::string_view(reinterpret_cast<const char *>(data), size), header_size);
  if (how == 1 && input.chunks.size() > first_message) {
    std::string &chunk = input.chunks[first_message + rng.below(input.chunks.size() - first_message)];
    if (chunk.empty()) chunk.push_back(static_cast<char>(rng.next()));
    const size_t room = chunk.size() + 64;
    chunk.resize(room);
    const size_t length =
        byte_mutator(reinterpret_cast<uint8_t *>(chunk.data()), room - 64, std::min<size_t>(room, 0xFFFF));
    chunk.resize(std::min(length, room));
  } else {
    for (size_t rounds = 1 + rng.below(3); rounds > 0; --rounds) mutate_chunked(input, rng, first_message);
  }
  const std::string out = input.join();
  if (out.size() > max_size) return byte_mutator(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

// LLVMFuzzerCustomCrossOver: the first input, with one of its messages replaced by
// one of the second's, or a record of one of the second's messages added to one of
// its own (a replay across conversations), or its first replies followed by the
// second's later ones.
inline size_t custom_cross_over(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2, uint8_t *out,
                                size_t max_out, unsigned seed, size_t header_size, size_t first_message) {
  SplitMix64 rng(seed);
  ChunkedInput a = ChunkedInput::split(std::string_view(reinterpret_cast<const char *>(data1), size1), header_size);
  const ChunkedInput b = ChunkedInput::split(std::string_view(reinterpret_cast<const char *>(data2), size2), header_size);
  const size_t a_messages = a.chunks.size() > first_message ? a.chunks.size() - first_message : 0;
  const size_t b_messages = b.chunks.size() > first_message ? b.chunks.size() - first_message : 0;
  if (a_messages == 0 || b_messages == 0) return 0;
  std::string &mine = a.chunks[first_message + rng.below(a_messages)];
  const std::string &theirs = b.chunks[first_message + rng.below(b_messages)];
  switch (rng.below(3)) {
    case 0: mine = theirs; break;
    case 1: {
      ParseError error;
      auto target = parse_message(reinterpret_cast<const uint8_t *>(mine.data()), mine.size(), &error);
      auto source = parse_message(reinterpret_cast<const uint8_t *>(theirs.data()), theirs.size(), &error);
      if (!target || !source) return 0;
      std::vector<ResourceRecord> *into[] = {&target->answer, &target->authority, &target->additional};
      const std::vector<ResourceRecord> *from[] = {&source->answer, &source->authority, &source->additional};
      const auto &section = *from[rng.below(3)];
      if (section.empty()) return 0;
      // Usually a whole RRset with its signatures, as a replay would carry it.
      const ResourceRecord &pick = section[rng.below(section.size())];
      auto &destination = *into[rng.below(3)];
      for (const auto &rr : section) {
        const bool same_set = rr.owner == pick.owner && rr.type == pick.type;
        const bool its_signature = rr.type == rrtype::RRSIG && rr.owner == pick.owner &&
                                   rr.rrsig_type_covered() == pick.type;
        if (same_set || its_signature) destination.push_back(rr);
      }
      mine = encode_message(*target).wire;
      break;
    }
    default: {
      const size_t keep = first_message + rng.below(a_messages + 1);
      const size_t from = first_message + rng.below(b_messages);
      a.chunks.resize(keep);
      a.chunks.insert(a.chunks.end(), b.chunks.begin() + static_cast<std::ptrdiff_t>(from), b.chunks.end());
      break;
    }
  }
  const std::string joined = a.join();
  if (joined.size() > max_out) return 0;
  std::memcpy(out, joined.data(), joined.size());
  return joined.size();
}

}  // namespace rsv::fuzz
