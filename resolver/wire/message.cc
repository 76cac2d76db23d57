#include "resolver/wire/message.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace rsv {

const char *to_string(ParseError error) {
  switch (error) {
    case ParseError::none: return "ok";
    case ParseError::truncated: return "message truncated";
    case ParseError::bad_name: return "malformed name";
    case ParseError::bad_rdata: return "malformed rdata";
    case ParseError::multiple_opt: return "more than one OPT record";
    case ParseError::opt_not_root: return "OPT record owner is not the root";
    case ParseError::trailing_garbage: return "trailing data after the last record";
  }
  return "unknown";
}

namespace {

// RFC 1035 4.1.4: a pointer refers to an earlier occurrence. Following only strictly
// backward pointers bounds the work and rules out loops; the hop cap is a second guard.
constexpr int kMaxPointerHops = 64;

class Reader {
public:
  Reader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool u8(uint8_t &v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t &v) {
    if (remaining() < 2) return false;
    v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t &v) {
    if (remaining() < 4) return false;
    v = (uint32_t(data_[pos_]) << 24) | (uint32_t(data_[pos_ + 1]) << 16) |
        (uint32_t(data_[pos_ + 2]) << 8) | uint32_t(data_[pos_ + 3]);
    pos_ += 4;
    return true;
  }
  bool bytes(size_t n, std::string &out) {
    if (remaining() < n) return false;
    out.append(reinterpret_cast<const char *>(data_ + pos_), n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  // True when the last name() failed because the packet ended inside it (before any
  // pointer was followed): a cut-off packet, not a malformed one.
  bool name_ran_out() const { return name_ran_out_; }
  // Reads a possibly compressed name at the current position into uncompressed wire form.
  bool name(std::string &out) {
    out.clear();
    name_ran_out_ = false;
    size_t cursor = pos_;
    size_t resume = 0;  // where reading continues after the first pointer
    bool jumped = false;
    int hops = 0;
    size_t label_start_limit = pos_;  // pointers must go strictly before this
    while (true) {
      if (cursor >= size_) return ran_out(jumped);
      uint8_t len = data_[cursor];
      if ((len & 0xC0) == 0xC0) {
        if (cursor + 1 >= size_) return ran_out(jumped);
        size_t target = (size_t(len & 0x3F) << 8) | data_[cursor + 1];
        if (target >= label_start_limit || ++hops > kMaxPointerHops) return false;
        if (!jumped) resume = cursor + 2;
        jumped = true;
        label_start_limit = target;
        cursor = target;
        continue;
      }
      if (len & 0xC0) return false;  // 0x40 / 0x80: obsolete extended label types
      if (len == 0) {
        out.push_back('\0');
        if (out.size() > Name::kMaxWireLength) return false;
        pos_ = jumped ? resume : cursor + 1;
        return true;
      }
      if (cursor + 1 + len > size_) return ran_out(jumped);
      out.append(reinterpret_cast<const char *>(data_ + cursor), 1 + len);
      if (out.size() + 1 > Name::kMaxWireLength) return false;
      cursor += 1 + len;
    }
  }

private:
  // A pointer always targets data already read, so running out after a jump means a
  // bad pointer rather than a short packet.
  bool ran_out(bool jumped) {
    name_ran_out_ = !jumped;
    return false;
  }
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
  bool name_ran_out_ = false;
};

// Layout of rdata with embedded names that a sender may compress (RFC 1035 3.3,
// RFC 3597 4): a fixed prefix, then some names, then a fixed-size tail.
struct RdataLayout {
  size_t prefix;
  int names;
  size_t suffix;  // exact size of the fixed tail after the names
};

std::optional<RdataLayout> compressible_layout(uint16_t type) {
  switch (type) {
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR:
    case rrtype::DNAME:
    case 3: case 4: case 7: case 8: case 9:  // MD MF MB MG MR
      return RdataLayout{0, 1, 0};
    case rrtype::SOA: return RdataLayout{0, 2, 20};
    case rrtype::MX:
    case 18:  // AFSDB
    case 21:  // RT
    case 36:  // KX
      return RdataLayout{2, 1, 0};
    case rrtype::SRV: return RdataLayout{6, 1, 0};
    case 14:  // MINFO
    case 17:  // RP
      return RdataLayout{0, 2, 0};
    default: return std::nullopt;
  }
}

bool read_rdata(Reader &reader, uint16_t type, uint16_t rdlength, std::string &out, ParseError &err) {
  size_t end = reader.pos() + rdlength;
  if (reader.remaining() < rdlength) {
    err = ParseError::truncated;
    return false;
  }
  auto layout = compressible_layout(type);
  if (!layout) {
    if (type == rrtype::A && rdlength != 4) { err = ParseError::bad_rdata; return false; }
    if (type == rrtype::AAAA && rdlength != 16) { err = ParseError::bad_rdata; return false; }
    reader.bytes(rdlength, out);
    return true;
  }
  if (rdlength < layout->prefix || !reader.bytes(layout->prefix, out)) {
    err = ParseError::bad_rdata;
    return false;
  }
  std::string name;
  for (int i = 0; i < layout->names; ++i) {
    if (!reader.name(name) || reader.pos() > end) {
      err = ParseError::bad_rdata;
      return false;
    }
    out += name;
  }
  if (end - reader.pos() != layout->suffix || !reader.bytes(layout->suffix, out)) {
    err = ParseError::bad_rdata;
    return false;
  }
  return true;
}

}  // namespace

std::optional<Message> parse_message(const uint8_t *data, size_t size, ParseError *error,
                                     const ParseLimits &limits) {
  ParseError local = ParseError::none;
  ParseError &err = error ? *error : local;
  err = ParseError::none;
  Reader reader(data, size);
  Message msg;
  uint16_t flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  if (!reader.u16(msg.id) || !reader.u16(flags) || !reader.u16(qd) || !reader.u16(an) ||
      !reader.u16(ns) || !reader.u16(ar)) {
    err = ParseError::truncated;
    return std::nullopt;
  }
  msg.qr = flags & 0x8000;
  msg.opcode = (flags >> 11) & 0xF;
  msg.aa = flags & 0x0400;
  msg.tc = flags & 0x0200;
  msg.rd = flags & 0x0100;
  msg.ra = flags & 0x0080;
  msg.ad = flags & 0x0020;
  msg.cd = flags & 0x0010;
  msg.rcode = flags & 0xF;
  if (size_t(qd) + an + ns + ar > limits.max_records + 4) {
    err = ParseError::truncated;
    return std::nullopt;
  }
  std::string name;
  for (uint16_t i = 0; i < qd; ++i) {
    Question q;
    if (!reader.name(name)) {
      err = reader.name_ran_out() ? ParseError::truncated : ParseError::bad_name;
      return std::nullopt;
    }
    q.name = *Name::from_wire(name);
    if (!reader.u16(q.qtype) || !reader.u16(q.qclass)) {
      err = ParseError::truncated;
      return std::nullopt;
    }
    msg.questions.push_back(std::move(q));
  }
  const uint16_t counts[3] = {an, ns, ar};
  std::vector<ResourceRecord> *sections[3] = {&msg.answer, &msg.authority, &msg.additional};
  for (int s = 0; s < 3; ++s) {
    for (uint16_t i = 0; i < counts[s]; ++i) {
      ResourceRecord rr;
      uint16_t rdlength = 0;
      if (!reader.name(name)) {
        err = reader.name_ran_out() ? ParseError::truncated : ParseError::bad_name;
        return std::nullopt;
      }
      rr.owner = *Name::from_wire(name);
      if (!reader.u16(rr.type) || !reader.u16(rr.rclass) || !reader.u32(rr.ttl) || !reader.u16(rdlength)) {
        err = ParseError::truncated;
        return std::nullopt;
      }
      if (rr.type == rrtype::OPT) {
        if (s != 2) {
          err = ParseError::bad_rdata;
          return std::nullopt;
        }
        if (msg.edns) {
          err = ParseError::multiple_opt;
          return std::nullopt;
        }
        if (!rr.owner.is_root()) {
          err = ParseError::opt_not_root;
          return std::nullopt;
        }
        Edns edns;
        edns.udp_size = rr.rclass;  // RFC 6891 6.1.2: CLASS holds the payload size
        edns.extended_rcode = static_cast<uint8_t>(rr.ttl >> 24);
        edns.version = static_cast<uint8_t>((rr.ttl >> 16) & 0xFF);
        edns.dnssec_ok = rr.ttl & 0x8000;
        size_t end = reader.pos() + rdlength;
        if (reader.remaining() < rdlength) {
          err = ParseError::truncated;
          return std::nullopt;
        }
        while (reader.pos() < end) {
          EdnsOption opt;
          uint16_t len = 0;
          if (end - reader.pos() < 4 || !reader.u16(opt.code) || !reader.u16(len) ||
              end - reader.pos() < len || !reader.bytes(len, opt.data)) {
            err = ParseError::bad_rdata;
            return std::nullopt;
          }
          edns.options.push_back(std::move(opt));
        }
        msg.rcode = static_cast<uint16_t>(msg.rcode | (uint16_t(edns.extended_rcode) << 4));
        msg.edns = std::move(edns);
        continue;
      }
      if (!read_rdata(reader, rr.type, rdlength, rr.rdata, err)) return std::nullopt;
      sections[s]->push_back(std::move(rr));
    }
  }
  if (reader.remaining() != 0) {
    err = ParseError::trailing_garbage;
    return std::nullopt;
  }
  return msg;
}

void Message::add_extended_error(const ExtendedError &e) {
  if (!edns) edns = Edns{};
  EdnsOption opt;
  opt.code = edns_option::EXTENDED_ERROR;
  opt.data.push_back(static_cast<char>(e.info_code >> 8));
  opt.data.push_back(static_cast<char>(e.info_code & 0xFF));
  opt.data += e.extra_text;
  edns->options.push_back(std::move(opt));
}

std::vector<ExtendedError> Message::extended_errors() const {
  std::vector<ExtendedError> out;
  if (!edns) return out;
  for (const auto &opt : edns->options) {
    if (opt.code != edns_option::EXTENDED_ERROR || opt.data.size() < 2) continue;
    ExtendedError e;
    e.info_code = static_cast<uint16_t>((uint8_t(opt.data[0]) << 8) | uint8_t(opt.data[1]));
    e.extra_text = opt.data.substr(2);
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

class Writer {
public:
  explicit Writer(std::string &out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<char>(v >> 8));
    out_.push_back(static_cast<char>(v & 0xFF));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v & 0xFFFF));
  }
  void raw(const std::string &s) { out_ += s; }
  // Writes a name, pointing at an earlier copy of its longest known suffix.
  void name(const Name &n) {
    const std::string &w = n.wire();
    size_t pos = 0;
    while (pos < w.size() && w[pos] != 0) {
      std::string_view suffix(w.data() + pos, w.size() - pos);
      for (const auto &entry : known_) {
        if (entry.wire.size() == suffix.size() && equal_ci(entry.wire, suffix)) {
          u16(static_cast<uint16_t>(0xC000 | entry.offset));
          return;
        }
      }
      if (out_.size() < 0x3FFF) known_.push_back({std::string(suffix), out_.size()});
      uint8_t len = static_cast<uint8_t>(w[pos]);
      out_.append(w, pos, 1 + len);
      pos += 1 + len;
    }
    u8(0);
  }
  size_t size() const { return out_.size(); }
  void rollback(size_t size) {
    out_.resize(size);
    while (!known_.empty() && known_.back().offset >= size) known_.pop_back();
  }
  void set_u16(size_t at, uint16_t v) {
    out_[at] = static_cast<char>(v >> 8);
    out_[at + 1] = static_cast<char>(v & 0xFF);
  }

private:
  static bool equal_ci(std::string_view a, std::string_view b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (dns_tolower(a[i]) != dns_tolower(b[i])) return false;
    return true;
  }
  struct Known {
    std::string wire;
    size_t offset;
  };
  std::string &out_;
  std::vector<Known> known_;
};

uint16_t header_flags(const Message &m) {
  uint16_t f = 0;
  if (m.qr) f |= 0x8000;
  f |= uint16_t(m.opcode & 0xF) << 11;
  if (m.aa) f |= 0x0400;
  if (m.tc) f |= 0x0200;
  if (m.rd) f |= 0x0100;
  if (m.ra) f |= 0x0080;
  if (m.ad) f |= 0x0020;
  if (m.cd) f |= 0x0010;
  f |= m.rcode & 0xF;
  return f;
}

void write_opt(Writer &w, const Edns &edns, uint16_t rcode) {
  w.u8(0);  // root owner
  w.u16(rrtype::OPT);
  w.u16(edns.udp_size);
  uint32_t ttl = (uint32_t((rcode >> 4) & 0xFF) << 24) | (uint32_t(edns.version) << 16) |
                 (edns.dnssec_ok ? 0x8000u : 0u);
  w.u32(ttl);
  size_t len = 0;
  for (const auto &o : edns.options) len += 4 + o.data.size();
  w.u16(static_cast<uint16_t>(len));
  for (const auto &o : edns.options) {
    w.u16(o.code);
    w.u16(static_cast<uint16_t>(o.data.size()));
    w.raw(o.data);
  }
}

size_t opt_size(const Edns &edns) {
  size_t len = 11;
  for (const auto &o : edns.options) len += 4 + o.data.size();
  return len;
}

// RFC 8914 2: EXTRA-TEXT is UTF-8 for people to read. Cutting it at most `max`
// octets, never inside a character.
size_t utf8_cut(std::string_view text, size_t max) {
  if (text.size() <= max) return text.size();
  size_t cut = max;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

size_t extended_error_count(const Edns &edns) {
  return static_cast<size_t>(std::count_if(edns.options.begin(), edns.options.end(), [](const EdnsOption &o) {
    return o.code == edns_option::EXTENDED_ERROR;
  }));
}

// The OPT record to send when `room` octets are left for it; the record itself is
// never left out (RFC 6891 7). The Extended DNS Errors give way, as RFC 8914 3 asks,
// before any other data: their extra texts first (for people to read, RFC 8914 2),
// shortened or emptied from the last error back, then whole errors; then (never in a
// reply of ours) the other options.
Edns fit_opt(const Edns &edns, size_t room) {
  Edns fitted = edns;
  size_t size = opt_size(fitted);
  auto &options = fitted.options;
  for (size_t i = options.size(); i-- > 0 && size > room;) {
    auto &option = options[i];
    if (option.code != edns_option::EXTENDED_ERROR || option.data.size() <= 2) continue;
    size_t over = size - room;
    size_t text = option.data.size() - 2;
    size_t keep = over >= text ? 0 : utf8_cut(std::string_view(option.data).substr(2), text - over);
    size -= text - keep;
    option.data.resize(2 + keep);
  }
  for (size_t i = options.size(); i-- > 0 && size > room;) {
    if (options[i].code != edns_option::EXTENDED_ERROR) continue;
    size -= 4 + options[i].data.size();
    options.erase(options.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (size > room) options.clear();
  return fitted;
}

void write_record(Writer &w, const ResourceRecord &rr, std::vector<uint16_t> &ttl_offsets) {
  w.name(rr.owner);
  w.u16(rr.type);
  w.u16(rr.rclass);
  ttl_offsets.push_back(static_cast<uint16_t>(w.size()));
  w.u32(rr.ttl);
  w.u16(static_cast<uint16_t>(rr.rdata.size()));
  w.raw(rr.rdata);
}

}  // namespace

EncodeResult encode_message(const Message &m, size_t max_size) {
  EncodeResult result;
  if (max_size < 512) max_size = 512;  // RFC 1035 4.2.1 floor
  if (max_size > 65535) max_size = 65535;
  // The answer and authority sections come before the Extended DNS Errors (RFC 8914
  // 3): they are written with room kept for the OPT record without any, and the
  // errors get what is left (fit_opt).
  size_t reserve = 0;
  if (m.edns) {
    reserve = opt_size(*m.edns);
    for (const auto &o : m.edns->options)
      if (o.code == edns_option::EXTENDED_ERROR) reserve -= 4 + o.data.size();
  }
  Writer w(result.wire);
  w.u16(m.id);
  w.u16(header_flags(m));
  w.u16(static_cast<uint16_t>(m.questions.size()));
  w.u16(0);
  w.u16(0);
  w.u16(0);
  for (const auto &q : m.questions) {
    w.name(q.name);
    w.u16(q.qtype);
    w.u16(q.qclass);
  }
  size_t after_question = w.size();
  const std::vector<ResourceRecord> *sections[2] = {&m.answer, &m.authority};
  bool fits = true;
  for (auto *section : sections) {
    for (const auto &rr : *section) {
      write_record(w, rr, result.ttl_offsets);
      if (w.size() + reserve > max_size) {
        fits = false;
        break;
      }
    }
    if (!fits) break;
  }
  uint16_t additional = 0;
  if (!fits) {
    w.rollback(after_question);
    result.ttl_offsets.clear();
    result.truncated = true;
    w.set_u16(2, static_cast<uint16_t>(header_flags(m) | 0x0200));
  }
  const Edns *opt = m.edns ? &*m.edns : nullptr;
  std::optional<Edns> fitted;
  if (opt) {
    const size_t room = max_size > w.size() ? max_size - w.size() : 0;
    if (opt_size(*opt) > room) {
      fitted = fit_opt(*opt, room);
      // RFC 8914 3: TC tells the client that an error it was owed was left out.
      if (extended_error_count(*fitted) < extended_error_count(*opt))
        w.set_u16(2, static_cast<uint16_t>(header_flags(m) | 0x0200));
      opt = &*fitted;
    }
    reserve = opt_size(*opt);
  }
  if (fits) {
    w.set_u16(6, static_cast<uint16_t>(m.answer.size()));
    w.set_u16(8, static_cast<uint16_t>(m.authority.size()));
    for (const auto &rr : m.additional) {
      size_t before = w.size();
      write_record(w, rr, result.ttl_offsets);
      if (w.size() + reserve > max_size) {
        w.rollback(before);
        result.ttl_offsets.pop_back();
        break;
      }
      ++additional;
    }
  }
  if (opt) {
    write_opt(w, *opt, m.rcode);
    ++additional;
  }
  w.set_u16(10, additional);
  return result;
}

std::string encode_query(uint16_t id, const Question &question, bool recursion_desired,
                         const std::optional<Edns> &edns, bool checking_disabled) {
  Message m;
  m.id = id;
  m.rd = recursion_desired;
  m.cd = checking_disabled;
  m.questions.push_back(question);
  m.edns = edns;
  return encode_message(m, 65535).wire;
}

const char *ede_name(uint16_t info_code) {
  static constexpr const char *kNames[] = {
      "Other Error",          "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
      "Stale Answer",         "Forged Answer",                "DNSSEC Indeterminate",
      "DNSSEC Bogus",         "Signature Expired",            "Signature Not Yet Valid",
      "DNSKEY Missing",       "RRSIGs Missing",               "No Zone Key Bit Set",
      "NSEC Missing",         "Cached Error",                 "Not Ready",
      "Blocked",              "Censored",                     "Filtered",
      "Prohibited",           "Stale NXDomain Answer",        "Not Authoritative",
      "Not Supported",        "No Reachable Authority",       "Network Error",
      "Invalid Data",         "Signature Expired before Valid", "Too Early",
      "Unsupported NSEC3 Iterations Value", "Unable to conform to policy", "Synthesized",
      "Invalid Query Type"};
  return info_code < std::size(kNames) ? kNames[info_code] : "Unassigned";
}

}  // namespace rsv
