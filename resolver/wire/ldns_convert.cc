#include "resolver/wire/ldns_convert.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace rsv {
namespace {

struct FileCloser {
  void operator()(FILE *f) const {
    if (f) std::fclose(f);
  }
};
using CFile = std::unique_ptr<FILE, FileCloser>;

std::string_view rdf_bytes(const ldns_rdf *rdf) {
  return {reinterpret_cast<const char *>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf)};
}

// ldns keeps $ORIGIN and the previous owner in caller-owned rdf pointers that it
// frees and replaces as it reads; this keeps them in handles between calls.
class ParserNames {
public:
  explicit ParserNames(const Name &origin) {
    origin_.reset(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin.wire().size(), origin.wire().data()));
    if (!origin_) throw std::runtime_error("out of memory");
  }
  template <typename Call>
  ldns_status with_raw(Call call) {
    ldns_rdf *origin = origin_.release();
    ldns_rdf *previous = previous_owner_.release();
    ldns_status status = call(&origin, &previous);
    origin_.reset(origin);
    previous_owner_.reset(previous);
    return status;
  }

private:
  LdnsRdf origin_;
  LdnsRdf previous_owner_;
};

}  // namespace

ResourceRecord from_ldns_rr(const ldns_rr *rr) {
  const ldns_rdf *owner_rdf = ldns_rr_owner(rr);
  std::optional<Name> owner = owner_rdf ? Name::from_wire(rdf_bytes(owner_rdf)) : std::nullopt;
  if (!owner) throw std::runtime_error("record owner is not an absolute domain name");

  LdnsBuffer buffer(ldns_buffer_new(512));  // grows as needed
  if (!buffer) throw std::runtime_error("out of memory");
  if (ldns_rr_rdata2buffer_wire(buffer.get(), rr) != LDNS_STATUS_OK)
    throw std::runtime_error("cannot encode the record's rdata");

  ResourceRecord record;
  record.owner = std::move(*owner);
  record.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
  record.rclass = static_cast<uint16_t>(ldns_rr_get_class(rr));
  record.ttl = ldns_rr_ttl(rr);
  record.rdata.assign(reinterpret_cast<const char *>(ldns_buffer_begin(buffer.get())),
                      ldns_buffer_position(buffer.get()));
  if (record.rdata.size() > 65535) throw std::runtime_error("rdata longer than 65535 octets");
  return record;
}

LdnsRr to_ldns_rr(const ResourceRecord &record) {
  if (record.rdata.size() > 65535) throw std::runtime_error("rdata longer than 65535 octets");
  // RFC 1035 4.1.3: owner, type, class, TTL, RDLENGTH, RDATA.
  std::string wire = record.owner.wire();
  auto put16 = [&](uint32_t v) {
    wire.push_back(static_cast<char>((v >> 8) & 0xff));
    wire.push_back(static_cast<char>(v & 0xff));
  };
  put16(record.type);
  put16(record.rclass);
  put16(record.ttl >> 16);
  put16(record.ttl & 0xffff);
  put16(static_cast<uint32_t>(record.rdata.size()));
  wire += record.rdata;

  ldns_rr *raw = nullptr;
  size_t position = 0;
  ldns_status status = ldns_wire2rr(&raw, reinterpret_cast<const uint8_t *>(wire.data()), wire.size(),
                                    &position, LDNS_SECTION_ANSWER);
  LdnsRr rr(raw);
  if (status != LDNS_STATUS_OK || !rr)
    throw std::runtime_error(std::string("malformed record: ") + ldns_get_errorstr_by_id(status));
  return rr;
}

std::vector<RecordAtLine> parse_zone_text(const std::string &text, const std::string &source_name,
                                          const Name &origin) {
  std::vector<RecordAtLine> records;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return records;
  // With a final newline every record ends on the line before the counter ldns
  // advances to, which makes the reported line exact.
  std::string buffer = text;
  if (buffer.back() != '\n') buffer.push_back('\n');
  CFile stream(fmemopen(buffer.data(), buffer.size(), "r"));
  if (!stream)
    throw std::runtime_error(source_name +
                             ": cannot read: " + std::error_code(errno, std::generic_category()).message());

  ParserNames names(origin);
  uint32_t default_ttl = 3600;
  int line_counter = 1;
  while (!std::feof(stream.get())) {
    ldns_rr *raw = nullptr;
    ldns_status status = names.with_raw([&](ldns_rdf **origin_rdf, ldns_rdf **previous) {
      return ldns_rr_new_frm_fp_l(&raw, stream.get(), &default_ttl, origin_rdf, previous, &line_counter);
    });
    LdnsRr rr(raw);
    const int line = line_counter - 1;
    auto fail = [&](const std::string &reason) {
      throw std::runtime_error(source_name + ":" + std::to_string(line) + ": " + reason);
    };
    switch (status) {
      case LDNS_STATUS_OK: try { records.push_back(RecordAtLine{from_ldns_rr(rr.get()), line});
        } catch (const std::runtime_error &e) {
          fail(e.what());
        }
        break;
      case LDNS_STATUS_SYNTAX_EMPTY:   // blank or comment-only lines
      case LDNS_STATUS_SYNTAX_TTL:     // $TTL, already applied to default_ttl
      case LDNS_STATUS_SYNTAX_ORIGIN:  // $ORIGIN, already applied to the origin
        break;
      case LDNS_STATUS_SYNTAX_INCLUDE: fail("$INCLUDE is not supported here"); break;
      default: fail(ldns_get_errorstr_by_id(status));
    }
  }
  return records;
}

std::vector<RecordAtLine> read_zone_file(const std::string &path, const Name &origin) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path +
                             ": cannot read: " + std::error_code(errno, std::generic_category()).message());
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    throw std::runtime_error(path +
                             ": cannot read: " + std::error_code(errno, std::generic_category()).message());
  return parse_zone_text(contents.str(), path, origin);
}

}  // namespace rsv
