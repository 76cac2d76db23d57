// Peak memory of loading a large cache snapshot (cache/snapshot.h), for
// /usr/bin/time -v. Two steps, run as separate processes so that each one's peak RSS
// is its own:
//
//   snapshot_bench write FILE N   fills a message cache and an RRset cache with N
//                                 entries each (a tenth of them secure, with an
//                                 RRSIG) and writes them as a snapshot to FILE
//   snapshot_bench load FILE      restores FILE into caches big enough for it and
//                                 prints what was restored
//
// Built on request only: cmake --build build --target snapshot_bench. Compare the
// "Maximum resident set size" of `load` with the file's size and with the caches'
// own memory (printed), which is what the restored entries cost whatever the loader.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cache/snapshot.h"
#include "resolver/wire/message.h"
#include "tests/unit/rrsig_rdata.h"

namespace {

using namespace rsv;

constexpr const char *kContext = "snapshot_bench: a validation context\n";
constexpr uint64_t kCacheBytes = 1ull << 30;  // each cache: nothing is evicted

Name name(const std::string &text) {
  return *Name::from_text(text);
}

int write_file(const char *path, size_t count) {
  SystemClock clock;
  const int64_t now = clock.now_seconds();
  MessageCache messages(clock, kCacheBytes);
  RRsetCache rrsets(clock, kCacheBytes, TtlPolicy{});
  for (size_t i = 0; i < count; ++i) {
    const Name qname = name("host" + std::to_string(i) + ".zone" + std::to_string(i % 97) + ".example.");
    const bool secure = i % 10 == 0;
    Message m;
    m.qr = m.rd = m.ra = true;
    m.ad = secure;
    m.questions.push_back(Question{qname, rrtype::A, rrclass::IN});
    std::string address = {static_cast<char>(192), 0, 2, static_cast<char>(i)};
    m.answer.push_back(ResourceRecord{qname, rrtype::A, rrclass::IN, 3600, address});
    if (secure) m.answer.push_back(testing::rrsig(qname, rrtype::A, now - 60, now + 86400, name("example.")));
    EncodeResult reply = encode_message(m);
    messages.store(qname, rrtype::A, rrclass::IN, secure ? message_flags::DO : 0, std::move(reply.wire),
                   std::move(reply.ttl_offsets), 3600, secure ? Security::secure : Security::insecure,
                   rcode::NOERROR, secure ? now + 86400 : 0);
    RRset set;
    set.owner = qname;
    set.type = rrtype::A;
    set.add(address, 3600);
    if (secure)
      set.signatures.push_back(testing::rrsig(qname, rrtype::A, now - 60, now + 86400, name("example.")));
    rrsets.store(set, Trust::answer, secure ? Security::secure : Security::insecure);
  }
  SnapshotWriteOptions options;
  options.context = kContext;
  options.now = now;
  options.max_stale = 86400;
  const SnapshotWriteResult result = write_snapshot_file(path, messages, rrsets, options);
  if (!result.ok) {
    std::fprintf(stderr, "snapshot_bench: %s\n", result.error.c_str());
    return 1;
  }
  std::printf("wrote %s: %zu answers, %zu RRsets, %" PRIu64 " bytes\n", path, result.messages, result.rrsets,
              result.bytes);
  return 0;
}

int load_file(const char *path) {
  SystemClock clock;
  MessageCache messages(clock, kCacheBytes);
  RRsetCache rrsets(clock, kCacheBytes, TtlPolicy{});
  SnapshotLoadOptions options;
  options.context = kContext;
  options.now = clock.now_seconds();
  options.max_stale = 86400;
  options.max_ttl = 86400;
  const SnapshotLoadResult result = load_snapshot_file(path, messages, rrsets, options);
  if (!result.ok) {
    std::fprintf(stderr, "snapshot_bench: %s\n", result.error.c_str());
    return 1;
  }
  std::printf("restored %zu answers, %zu RRsets; caches hold %" PRIu64 " + %" PRIu64 " bytes\n",
              result.messages, result.rrsets, messages.memory_bytes(), rrsets.memory_bytes());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc == 4 && std::string(argv[1]) == "write")
    return write_file(argv[2], std::strtoull(argv[3], nullptr, 10));
  if (argc == 3 && std::string(argv[1]) == "load") return load_file(argv[2]);
  std::fprintf(stderr, "usage: snapshot_bench write FILE N | snapshot_bench load FILE\n");
  return 2;
}
