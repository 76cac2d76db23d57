#include "cache/snapshot.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <variant>
#include <vector>

#include "cache/signature_time.h"
#include "resolver/base/private_file.h"
#include "resolver/wire/message.h"

namespace rsv {

namespace {

constexpr char kMagic[8] = {'R', 'S', 'V', 'D', 'S', 'N', 'A', 'P'};
constexpr uint8_t kRecordEnd = 0, kRecordMessage = 1, kRecordRRset = 2;
// No record the writer produces comes near this: a reply is at most 65535 octets, and
// an RRset comes from one. A bigger length is corruption, not data.
constexpr uint32_t kMaxRecordBytes = 1u << 20;
constexpr uint32_t kMaxContextBytes = 1u << 20;
// A file written this far in the future says the clock (or the file) is wrong.
constexpr int64_t kClockSlackSeconds = 300;
// RFC 2181 8: TTLs are at most 2^31 - 1.
constexpr int64_t kMaxLifetime = 0x7FFFFFFF;
// Every time in a file lies between the epoch and 2^40 s after it (the year 36812):
// anything else is corruption, and is refused before any arithmetic could overflow.
constexpr int64_t kLatestTime = int64_t{1} << 40;
bool sane_time(int64_t t) { return t >= 0 && t < kLatestTime; }
// The writer's buffer is handed to the file when it grows past this.
constexpr size_t kFlushBytes = 1u << 20;

class ByteWriter {
public:
  explicit ByteWriter(std::string &out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void i64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    u32(static_cast<uint32_t>(u >> 32));
    u32(static_cast<uint32_t>(u));
  }
  void bytes(std::string_view b) { out_.append(b); }

private:
  std::string &out_;
};

// Reads what the writer wrote; every read checks that the octets are there.
class ByteReader {
public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool u8(uint8_t &v) {
    if (left() < 1) return false;
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool u16(uint16_t &v) {
    uint8_t a, b;
    if (!u8(a) || !u8(b)) return false;
    v = static_cast<uint16_t>((a << 8) | b);
    return true;
  }
  bool u32(uint32_t &v) {
    uint16_t a, b;
    if (!u16(a) || !u16(b)) return false;
    v = (static_cast<uint32_t>(a) << 16) | b;
    return true;
  }
  bool i64(int64_t &v) {
    uint32_t a, b;
    if (!u32(a) || !u32(b)) return false;
    v = static_cast<int64_t>((static_cast<uint64_t>(a) << 32) | b);
    return true;
  }
  bool bytes(size_t n, std::string_view &v) {
    if (left() < n) return false;
    v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }

private:
  std::string_view in_;
  size_t pos_ = 0;
};

uint32_t crc32_of(uint32_t crc, std::string_view data) {
  // zlib takes lengths as uInt: feed large buffers in pieces.
  while (!data.empty()) {
    const size_t piece = std::min<size_t>(data.size(), 1u << 30);
    crc = static_cast<uint32_t>(::crc32(crc, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(piece)));
    data.remove_prefix(piece);
  }
  return crc;
}

// Encodes records into a buffer and hands it on in pieces (a file, or a string),
// keeping the running CRC and the record count for the end marker.
class SnapshotEncoder {
public:
  using Sink = std::function<bool(std::string_view)>;
  SnapshotEncoder(Sink sink, const SnapshotWriteOptions &options) : sink_(std::move(sink)), options_(options) {
    ByteWriter w(buffer_);
    w.bytes(std::string_view(kMagic, sizeof kMagic));
    w.u16(kSnapshotFormatVersion);
    const std::string_view writer(kSnapshotWriter);
    w.u8(static_cast<uint8_t>(writer.size()));
    w.bytes(writer);
    w.i64(options.now);
    w.u32(static_cast<uint32_t>(options.context.size()));
    w.bytes(options.context);
  }

  bool usable(Security security, int64_t expires_at) const {
    return security != Security::bogus && options_.now - expires_at < int64_t{options_.max_stale};
  }

  void add(const MessageRecord &record) {
    if (!usable(record.security, record.expires_at) || record.wire.size() > 0xFFFF) return;
    std::string payload;
    ByteWriter p(payload);
    p.u8(record.flags);
    p.u8(static_cast<uint8_t>(record.security));
    p.u16(record.rcode);
    p.i64(record.stored_at);
    p.i64(record.expires_at);
    p.i64(record.signatures_expire_at);
    p.bytes(record.wire);
    append_record(kRecordMessage, payload);
    ++messages;
  }

  void add(const RRsetRecord &record) {
    const RRset &set = record.rrset;
    if (!usable(record.security, record.expires_at) || set.empty()) return;
    if (set.rdatas.size() > 0xFFFF || set.signatures.size() > 0xFFFF) return;
    std::string payload;
    ByteWriter p(payload);
    p.u8(static_cast<uint8_t>(record.trust));
    p.u8(static_cast<uint8_t>(record.security));
    p.i64(record.expires_at);
    p.u16(set.type);
    p.u16(set.rclass);
    p.u8(static_cast<uint8_t>(set.owner.wire().size()));
    p.bytes(set.owner.wire());
    p.u16(static_cast<uint16_t>(set.rdatas.size()));
    for (const auto &rdata : set.rdatas) {
      if (rdata.size() > 0xFFFF) return;
      p.u16(static_cast<uint16_t>(rdata.size()));
      p.bytes(rdata);
    }
    p.u16(static_cast<uint16_t>(set.signatures.size()));
    for (const auto &sig : set.signatures) {
      if (sig.rdata.size() > 0xFFFF) return;
      p.u8(static_cast<uint8_t>(sig.owner.wire().size()));
      p.bytes(sig.owner.wire());
      p.u16(static_cast<uint16_t>(sig.rdata.size()));
      p.bytes(sig.rdata);
    }
    if (payload.size() > kMaxRecordBytes) return;
    append_record(kRecordRRset, payload);
    ++rrsets;
  }

  bool flush() {
    if (buffer_.empty()) return ok_;
    crc_ = crc32_of(crc_, buffer_);
    ok_ = ok_ && sink_(buffer_);
    buffer_.clear();
    return ok_;
  }

  bool flush_if_full() { return buffer_.size() < kFlushBytes || flush(); }

  bool finish() {
    ByteWriter w(buffer_);
    w.u8(kRecordEnd);
    w.u32(static_cast<uint32_t>(messages + rrsets));
    if (!flush()) return false;
    std::string crc;
    ByteWriter(crc).u32(crc_);
    return ok_ = sink_(crc);
  }

  size_t messages = 0, rrsets = 0;

private:
  void append_record(uint8_t kind, const std::string &payload) {
    ByteWriter w(buffer_);
    w.u8(kind);
    w.u32(static_cast<uint32_t>(payload.size()));
    w.bytes(payload);
  }

  Sink sink_;
  const SnapshotWriteOptions &options_;
  std::string buffer_;
  uint32_t crc_ = static_cast<uint32_t>(::crc32(0, nullptr, 0));
  bool ok_ = true;
};

// Both caches, shard by shard (each shard locked only while copied out), then the end.
bool encode_caches(SnapshotEncoder &encoder, const MessageCache &messages, const RRsetCache &rrsets) {
  for (size_t shard = 0; shard < messages.shard_count(); ++shard) {
    messages.export_shard(shard, [&](const MessageRecord &record) { encoder.add(record); });
    if (!encoder.flush_if_full()) return false;
  }
  for (size_t shard = 0; shard < rrsets.shard_count(); ++shard) {
    rrsets.export_shard(shard, [&](const RRsetRecord &record) { encoder.add(record); });
    if (!encoder.flush_if_full()) return false;
  }
  return encoder.finish();
}

// --- loading ----------------------------------------------------------------------

enum class Verdict { keep, drop_expired, drop_signatures };

struct RestoredMessage {
  Name qname;
  uint16_t qtype = 0, qclass = 0;
  MessageRecord record;
  std::vector<uint16_t> ttl_offsets;
};

struct Decoded {
  Verdict verdict = Verdict::keep;
  bool stale = false;  // kept, but already past its TTL
  std::variant<RestoredMessage, RRsetRecord> entry;
};

bool valid_security(uint8_t value) { return value <= static_cast<uint8_t>(Security::secure); }
bool valid_trust(uint8_t value) { return value <= static_cast<uint8_t>(Trust::authoritative); }

// The times every entry has: sane, then still usable now?
std::optional<std::string> check_times(int64_t stored_at, int64_t expires_at, int64_t written_at) {
  if (!sane_time(stored_at) || !sane_time(expires_at)) return "a time no clock shows";
  if (expires_at <= stored_at || expires_at - stored_at > kMaxLifetime) return "a lifetime that no TTL gives";
  if (stored_at > written_at + kClockSlackSeconds) return "stored after the file was written";
  return std::nullopt;
}

Verdict judge_time(int64_t expires_at, const SnapshotLoadOptions &options, bool *stale) {
  if (options.now - expires_at >= int64_t{options.max_stale}) return Verdict::drop_expired;
  if (expires_at - options.now > int64_t{options.max_ttl}) return Verdict::drop_expired;
  *stale = expires_at <= options.now;
  return Verdict::keep;
}

// One message record; an error text when it is not something the writer wrote.
std::optional<std::string> decode_message(std::string_view payload, int64_t written_at,
                                          const SnapshotLoadOptions &options, Decoded &out) {
  ByteReader r(payload);
  uint8_t flags = 0, security = 0;
  uint16_t rcode_value = 0;
  int64_t stored_at = 0, expires_at = 0, signatures_expire_at = 0;
  if (!r.u8(flags) || !r.u8(security) || !r.u16(rcode_value) || !r.i64(stored_at) || !r.i64(expires_at) ||
      !r.i64(signatures_expire_at))
    return "message record shorter than its fields";
  if (flags & ~(message_flags::DO | message_flags::CD)) return "message record with unknown flags";
  if (!valid_security(security) || security == static_cast<uint8_t>(Security::bogus))
    return "message record with an impossible security status";
  if (rcode_value != rcode::NOERROR && rcode_value != rcode::NXDOMAIN) return "message record with rcode " +
                                                                             std::to_string(rcode_value);
  if (auto bad = check_times(stored_at, expires_at, written_at)) return "message record with " + *bad;
  if (signatures_expire_at != 0 && !sane_time(signatures_expire_at))
    return "message record with a time no clock shows";
  std::string_view wire;
  r.bytes(r.left(), wire);
  ParseError error = ParseError::none;
  auto message = parse_message(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), &error);
  if (!message) return std::string("message record whose reply does not parse: ") + to_string(error);
  if (!message->qr || !message->question() || message->edns || message->rcode != rcode_value ||
      message->question()->qclass != rrclass::IN)
    return "message record whose reply is not one the cache stores";

  out.verdict = judge_time(expires_at, options, &out.stale);
  const auto status = static_cast<Security>(security);
  if (out.verdict == Verdict::keep && status == Security::secure) {
    // RFC 4034 3.1.5, again: every RRSIG the reply carries, and the earliest of those
    // the answer was validated with (saved, since a reply without DO carries none).
    std::vector<ResourceRecord> signatures;
    for (const auto *section : {&message->answer, &message->authority, &message->additional})
      for (const auto &rr : *section)
        if (rr.type == rrtype::RRSIG) signatures.push_back(rr);
    const bool carries = (flags & message_flags::DO) != 0;
    if (signatures_expire_at <= options.now || (carries && !signatures_current(signatures, options.now)))
      out.verdict = Verdict::drop_signatures;
  }
  // AD says secure; nothing else may carry it (RFC 4035 3.2.3).
  if (status != Security::secure) message->ad = false;
  // A restored TTL says no more than the file did less the time since: the entry counts
  // from when the file was written at the latest (one stored while it was being written
  // loses those seconds). That no record in it outlives the entry (a negative answer's
  // SOA may have been stored with a longer TTL than max-negative-ttl let it live) is
  // the message cache's rule for every entry, restored or not (copy_counted_down).
  stored_at = std::min(stored_at, written_at);
  EncodeResult encoded = encode_message(*message, 65535);
  if (encoded.truncated) return "message record whose reply does not fit a message";
  RestoredMessage restored;
  restored.qname = message->question()->name;
  restored.qtype = message->question()->qtype;
  restored.qclass = message->question()->qclass;
  restored.record = MessageRecord{flags, std::move(encoded.wire), stored_at, expires_at, signatures_expire_at,
                                  status, rcode_value};
  restored.ttl_offsets = std::move(encoded.ttl_offsets);
  out.entry = std::move(restored);
  return std::nullopt;
}

bool read_name(ByteReader &r, Name &name) {
  uint8_t length = 0;
  std::string_view wire;
  if (!r.u8(length) || !r.bytes(length, wire)) return false;
  auto parsed = Name::from_wire(wire);
  if (!parsed) return false;
  name = std::move(*parsed);
  return true;
}

std::optional<std::string> decode_rrset(std::string_view payload, int64_t written_at,
                                        const SnapshotLoadOptions &options, Decoded &out) {
  ByteReader r(payload);
  uint8_t trust = 0, security = 0;
  int64_t expires_at = 0;
  RRsetRecord record;
  RRset &set = record.rrset;
  if (!r.u8(trust) || !r.u8(security) || !r.i64(expires_at) || !r.u16(set.type) || !r.u16(set.rclass))
    return "RRset record shorter than its fields";
  if (!valid_trust(trust) || !valid_security(security) || security == static_cast<uint8_t>(Security::bogus))
    return "RRset record with an impossible trust or security status";
  if (set.type == 0 || set.type == rrtype::OPT || set.type == rrtype::ANY || set.type == rrtype::AXFR ||
      set.type == rrtype::IXFR)
    return "RRset record of type " + std::to_string(set.type);
  // The entry's stored time is not kept; its expiry can at most be a TTL after writing.
  if (!sane_time(expires_at)) return "RRset record with a time no clock shows";
  if (expires_at > written_at + kMaxLifetime) return "RRset record with a lifetime that no TTL gives";
  if (!read_name(r, set.owner)) return "RRset record with a malformed owner name";
  uint16_t count = 0;
  if (!r.u16(count) || count == 0) return "RRset record without data";
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t length = 0;
    std::string_view rdata;
    if (!r.u16(length) || !r.bytes(length, rdata)) return "RRset record with truncated data";
    set.rdatas.emplace_back(rdata);
  }
  if (!r.u16(count)) return "RRset record without its signature count";
  for (uint16_t i = 0; i < count; ++i) {
    ResourceRecord sig;
    uint16_t length = 0;
    std::string_view rdata;
    if (!read_name(r, sig.owner) || !r.u16(length) || !r.bytes(length, rdata))
      return "RRset record with a truncated signature";
    sig.type = rrtype::RRSIG;
    sig.rclass = set.rclass;
    sig.rdata.assign(rdata);
    set.signatures.push_back(std::move(sig));
  }
  if (r.left() != 0) return "RRset record with trailing octets";
  record.expires_at = expires_at;
  record.trust = static_cast<Trust>(trust);
  record.security = static_cast<Security>(security);
  out.verdict = judge_time(expires_at, options, &out.stale);
  if (out.verdict == Verdict::keep && record.security == Security::secure &&
      !signatures_current(set.signatures, options.now))
    out.verdict = Verdict::drop_signatures;
  out.entry = std::move(record);
  return std::nullopt;
}

// A snapshot larger than the cache it is for could fill is not one it wrote.
std::optional<std::string> check_size(uint64_t size, const SnapshotLoadOptions &options) {
  if (size <= options.max_file_bytes) return std::nullopt;
  return std::to_string(size) + " octets, more than a cache of this size can fill (" +
         std::to_string(options.max_file_bytes) + ")";
}

// The header and the checksum: what the records are, and that they are whole.
// `records` gets the octets from the first record to the checksum.
std::optional<std::string> check_header(std::string_view bytes, const SnapshotLoadOptions &options,
                                        SnapshotLoadResult &result, std::string_view &records) {
  constexpr size_t kSmallest = sizeof kMagic + 2 + 1 + 8 + 4 + 1 + 4 + 4;
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return "not a resolverd cache snapshot (no RSVDSNAP magic)";
  if (auto too_large = check_size(bytes.size(), options)) return too_large;
  ByteReader r(bytes);
  std::string_view skip;
  r.bytes(sizeof kMagic, skip);
  uint16_t version = 0;
  if (!r.u16(version)) return "truncated (" + std::to_string(bytes.size()) + " octets)";
  if (version != kSnapshotFormatVersion)
    return "format version " + std::to_string(version) + "; this resolverd reads version " +
           std::to_string(kSnapshotFormatVersion);
  uint8_t writer_length = 0;
  std::string_view writer;
  if (!r.u8(writer_length) || !r.bytes(writer_length, writer))
    return "truncated (" + std::to_string(bytes.size()) + " octets)";
  if (writer != kSnapshotWriter) return "written by '" + std::string(writer) + "', not by resolverd";
  if (bytes.size() < kSmallest) return "truncated (" + std::to_string(bytes.size()) + " octets)";

  // The checksum covers everything before it: corruption and truncation end here,
  // before a single record is looked at.
  ByteReader trailer(bytes.substr(bytes.size() - 4));
  uint32_t stored_crc = 0;
  trailer.u32(stored_crc);
  const std::string_view covered = bytes.substr(0, bytes.size() - 4);
  const uint32_t crc = crc32_of(static_cast<uint32_t>(::crc32(0, nullptr, 0)), covered);
  if (crc != stored_crc) return "checksum mismatch (the file is corrupt or truncated)";

  ByteReader body(covered);
  body.bytes(r.position(), skip);
  int64_t written_at = 0;
  uint32_t context_length = 0;
  std::string_view context;
  if (!body.i64(written_at) || !body.u32(context_length) || context_length > kMaxContextBytes ||
      !body.bytes(context_length, context))
    return "header with an impossible length";
  result.written_at = written_at;
  if (!sane_time(written_at)) return "written at a time no clock shows";
  if (written_at > options.now + kClockSlackSeconds)
    return "written " + std::to_string(written_at - options.now) +
           " s in the future: the clock stepped back, or the file is not this host's";
  if (context != options.context)
    return "written under other DNSSEC settings, trust anchors or forwarding: its security statuses no "
           "longer hold";
  records = covered.substr(body.position());
  return std::nullopt;
}

// Decodes the records one at a time, handing each to `visit` before the next is
// decoded, up to the end marker, whose count and place it checks. The first
// record that is not one the writer could have written ends the walk with its error.
std::optional<std::string> for_each_record(std::string_view records, int64_t written_at,
                                           const SnapshotLoadOptions &options,
                                           const std::function<void(Decoded &)> &visit) {
  ByteReader body(records);
  for (size_t index = 0;; ++index) {
    uint8_t kind = 0;
    if (!body.u8(kind)) return "no end marker";
    if (kind == kRecordEnd) {
      uint32_t count = 0;
      if (!body.u32(count) || count != index)
        return "the end marker counts " + std::to_string(count) + " records, the file holds " +
               std::to_string(index);
      if (body.left() != 0) return "octets after the end marker";
      return std::nullopt;
    }
    uint32_t length = 0;
    std::string_view payload;
    if (!body.u32(length) || length > kMaxRecordBytes || !body.bytes(length, payload))
      return "record " + std::to_string(index) + " with an impossible length";
    Decoded entry;
    std::optional<std::string> bad;
    if (kind == kRecordMessage)
      bad = decode_message(payload, written_at, options, entry);
    else if (kind == kRecordRRset)
      bad = decode_rrset(payload, written_at, options, entry);
    else
      bad = "unknown record kind " + std::to_string(kind);
    if (bad) return "record " + std::to_string(index) + ": " + *bad;
    visit(entry);
  }
}

void restore(Decoded &entry, MessageCache &messages, RRsetCache &rrsets, SnapshotLoadResult &result) {
  switch (entry.verdict) {
    case Verdict::drop_expired: ++result.dropped_expired; return;
    case Verdict::drop_signatures: ++result.dropped_signatures; return;
    case Verdict::keep: break;
  }
  bool stored = false;
  if (auto *message = std::get_if<RestoredMessage>(&entry.entry)) {
    stored = messages.restore(message->qname, message->qtype, message->qclass, std::move(message->record),
                              std::move(message->ttl_offsets));
    result.messages += stored;
  } else {
    stored = rrsets.restore(std::get<RRsetRecord>(entry.entry));
    result.rrsets += stored;
  }
  if (!stored) ++result.not_stored;
  if (stored && entry.stale) ++result.stale;
}

}  // namespace

std::string encode_snapshot(const MessageCache &messages, const RRsetCache &rrsets,
                            const SnapshotWriteOptions &options, size_t *message_count, size_t *rrset_count) {
  std::string out;
  SnapshotEncoder encoder(
      [&](std::string_view piece) {
        out.append(piece);
        return true;
      },
      options);
  encode_caches(encoder, messages, rrsets);
  if (message_count) *message_count = encoder.messages;
  if (rrset_count) *rrset_count = encoder.rrsets;
  return out;
}

SnapshotWriteResult write_snapshot_file(const std::string &path, const MessageCache &messages,
                                        const RRsetCache &rrsets, const SnapshotWriteOptions &options) {
  SnapshotWriteResult result;
  // A fresh temporary file of an unguessable name (resolver/base/private_file.h): the
  // daemon may run as root, and a link planted at a fixed name would be written through.
  AtomicFileWriter file(path);
  if (!file.ok()) {
    result.error = file.error();
    return result;
  }
  SnapshotEncoder encoder([&](std::string_view piece) { return file.write(piece); }, options);
  if (!encode_caches(encoder, messages, rrsets)) {
    result.error = file.error();
    return result;
  }
  if (options.still_valid && !options.still_valid()) {
    result.error = "given up: the validation context changed while it was written";
    return result;  // the temporary file goes with `file`; the old snapshot stays
  }
  // What clients looked up is private: the file is for the daemon's user only.
  if (!file.commit(0600)) {
    result.error = file.error();
    return result;
  }
  result.ok = true;
  result.messages = encoder.messages;
  result.rrsets = encoder.rrsets;
  result.bytes = file.bytes_written();
  return result;
}

SnapshotLoadResult load_snapshot(std::string_view bytes, MessageCache &messages, RRsetCache &rrsets,
                                 const SnapshotLoadOptions &options) {
  SnapshotLoadResult result;
  std::string_view records;
  if (auto bad = check_header(bytes, options, result, records)) {
    result.error = *bad;
    return result;
  }
  // One walk: each record is decoded and restored before the next is decoded, so that
  // memory beyond the file's own octets stays at one decoded entry, whatever the file
  // holds (a hostile file of N octets cannot make the daemon hold N octets many times
  // over in decoded form). A record found wrong part-way, or an end marker that does
  // not count what came before, makes the whole file wrong: the caches, which held
  // nothing before (the daemon loads at start), are flushed, so that no part of it
  // stays.
  const std::optional<std::string> bad = for_each_record(
      records, result.written_at, options, [&](Decoded &entry) { restore(entry, messages, rrsets, result); });
  if (bad) {
    messages.flush(Name::root(), true);
    rrsets.flush(Name::root(), true);
    SnapshotLoadResult failed;
    failed.written_at = result.written_at;
    failed.error = *bad;
    return failed;
  }
  result.ok = true;
  return result;
}

SnapshotLoadResult load_snapshot_file(const std::string &path, MessageCache &messages, RRsetCache &rrsets,
                                      const SnapshotLoadOptions &options) {
  SnapshotLoadResult result;
  // Only a file the daemon (or root) could have written: its statuses are trusted.
  const std::vector<uid_t> owners = options.owners.empty() ? daemon_file_owners({}) : options.owners;
  // The size is checked before anything is read (read_private_file), in the words the
  // check of the octets in memory uses.
  PrivateFileContents read = read_private_file(path, owners, options.max_file_bytes);
  if (!read.error.empty()) {
    result.missing = read.missing;
    result.error = read.too_large ? *check_size(read.size, options) : read.error;
    return result;
  }
  return load_snapshot(read.contents, messages, rrsets, options);
}

}  // namespace rsv
