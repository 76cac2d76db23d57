// Owning wrappers for ldns objects: each handle frees itself with the right ldns
// deleter, so no code path calls a bare ldns_*_free.
#pragma once

// ldns.h defines bool/true/false as macros unless <stdbool.h> came first, which
// breaks standard C++ headers included after it.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include <memory>

namespace rsv {

template <typename T, void (*Free)(T *)>
struct LdnsDeleter {
  void operator()(T *p) const {
    if (p) Free(p);
  }
};

using LdnsPkt = std::unique_ptr<ldns_pkt, LdnsDeleter<ldns_pkt, ldns_pkt_free>>;
using LdnsRr = std::unique_ptr<ldns_rr, LdnsDeleter<ldns_rr, ldns_rr_free>>;
using LdnsRrList = std::unique_ptr<ldns_rr_list, LdnsDeleter<ldns_rr_list, ldns_rr_list_deep_free>>;
using LdnsRdf = std::unique_ptr<ldns_rdf, LdnsDeleter<ldns_rdf, ldns_rdf_deep_free>>;
using LdnsBuffer = std::unique_ptr<ldns_buffer, LdnsDeleter<ldns_buffer, ldns_buffer_free>>;

struct MallocDeleter {
  void operator()(void *p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, MallocDeleter>;

}  // namespace rsv
