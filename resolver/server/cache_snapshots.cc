#include "resolver/server/cache_snapshots.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <ctime>

#include "cache/snapshot.h"
#include "resolver/base/log.h"
#include "resolver/server/state_files.h"

namespace rsv {

namespace {

std::string chroot_root(const Config &config) {
  std::string root = config.chroot;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root == "/" ? std::string() : root;
}

// Creates `directory` and its missing parents; the last one is handed to `username`.
// Returns why not, or "".
std::string ensure_directory(const std::string &directory, const std::string &username) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) return directory + " exists and is not a directory";
    return {};
  }
  for (size_t at = 1; at <= directory.size(); ++at) {
    if (at != directory.size() && directory[at] != '/') continue;
    const std::string part = directory.substr(0, at);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return "cannot create " + part + ": " + std::strerror(errno);
  }
  if (!username.empty()) {
    if (const passwd *user = ::getpwnam(username.c_str()))
      if (::chown(directory.c_str(), user->pw_uid, user->pw_gid) != 0)
        return "cannot give " + directory + " to " + username + ": " + std::strerror(errno);
  }
  RSV_LOG(info, "created %s for the cache snapshot", directory.c_str());
  return {};
}

// Everything but the context, which the caller keeps alive and sets.
SnapshotWriteOptions write_options(const Config &config) {
  SnapshotWriteOptions options;
  options.now = static_cast<int64_t>(::time(nullptr));
  options.max_stale = config.cache.max_stale;
  return options;
}

void log_write(const std::string &path, const SnapshotWriteResult &result, bool final_write) {
  if (!result.ok) {
    RSV_LOG(warning, "cache snapshot %s not written: %s", path.c_str(), result.error.c_str());
    return;
  }
  RSV_LOG(info, "cache snapshot %s written%s: %zu answers, %zu RRsets, %" PRIu64 " bytes", path.c_str(),
          final_write ? " at shutdown" : "", result.messages, result.rrsets, result.bytes);
}

}  // namespace

std::string snapshot_path_at_start(const Config &config) {
  const std::string &path = config.cache.snapshot;
  const std::string root = chroot_root(config);
  if (root.empty() || path.rfind(root + "/", 0) == 0) return path;
  return root + path;
}

std::string snapshot_path_when_running(const Config &config) {
  const std::string &path = config.cache.snapshot;
  const std::string root = chroot_root(config);
  if (root.empty() || path.rfind(root + "/", 0) != 0) return path;
  return path.substr(root.size());
}

std::string validation_context(const Generation &generation,
                               const std::vector<Name> &runtime_negative_anchors) {
  // What a reload compares before it flushes everything (generation.h), then what it
  // flushes name by name: the negative trust anchors and the forwarding.
  Config scope;
  scope.dnssec.negative_trust_anchors = generation.config.dnssec.negative_trust_anchors;
  scope.forward_zones = generation.config.forward_zones;
  std::string text = validation_settings(generation) + "names flushed apart:\n" + dump_config(scope);
  for (const Name &name : runtime_negative_anchors)
    text += "runtime negative trust anchor " + name.to_text() + "\n";
  return text;
}

uint64_t snapshot_file_limit(const CacheConfig &cache) {
  // What the two data caches hold at most (cache.size between them) encodes to less
  // than they are charged for it; twice that, and a header, is room to spare. A bigger
  // file is not one this cache wrote.
  return 2 * cache.size_bytes + (uint64_t{1} << 20);
}

CacheSnapshots::CacheSnapshots(Caches &caches, EventLoop &control_loop) : caches_(caches), loop_(control_loop) {}

CacheSnapshots::~CacheSnapshots() {
  alive_.reset();
  timer_.reset();
  if (writer_.joinable()) writer_.join();
}

void CacheSnapshots::load_at_start(const Generation &generation) {
  const Config &config = generation.config;
  if (config.cache.snapshot.empty()) return;
  const std::string path = snapshot_path_at_start(config);
  if (std::string why = ensure_directory(directory_of(path), config.username); !why.empty()) {
    RSV_LOG(warning, "cache snapshot %s: %s; the daemon runs without it", path.c_str(), why.c_str());
    usable_ = false;
    return;
  }
  // Before the first write: what a write cut short by a crash left beside the file.
  remove_leftover_writes(path);
  SnapshotLoadOptions options;
  // A restart has no run-time negative trust anchors: a file written under one differs.
  const std::string context = validation_context(generation, {});
  options.context = context;
  options.now = static_cast<int64_t>(::time(nullptr));
  options.max_stale = config.cache.serve_stale ? config.cache.max_stale : 0;
  options.max_ttl = std::max(config.cache.min_ttl, config.cache.max_ttl);
  options.max_file_bytes = snapshot_file_limit(config.cache);
  // The daemon reads the file at start, usually as root, and writes it as `username`.
  options.owners = daemon_file_owners(config.username);
  const SnapshotLoadResult result = load_snapshot_file(path, caches_.messages, caches_.rrsets, options);
  if (result.missing) {
    RSV_LOG(info, "cache snapshot %s: none yet (written at shutdown%s)", path.c_str(),
            config.cache.snapshot_interval ? " and periodically" : "");
    return;
  }
  if (!result.ok) {
    RSV_LOG(warning, "cache snapshot %s ignored: %s", path.c_str(), result.error.c_str());
    return;
  }
  RSV_LOG(info,
          "cache snapshot %s, written %" PRId64 " s ago: restored %zu answers and %zu RRsets (%zu of them past "
          "their TTL, for serve-stale); dropped %zu past max-stale or max-ttl, %zu whose signatures are no longer "
          "valid, %zu that did not fit",
          path.c_str(), options.now - result.written_at, result.messages, result.rrsets, result.stale,
          result.dropped_expired, result.dropped_signatures, result.not_stored);
}

void CacheSnapshots::start(std::shared_ptr<const Generation> generation) {
  generation_ = std::move(generation);
  timer_ = std::make_unique<Timer>(loop_);
  arm();
}

void CacheSnapshots::apply(std::shared_ptr<const Generation> generation) {
  const Config &next = generation->config;
  if (!generation_ || validation_context(*generation_, {}) != validation_context(*generation, {}))
    ++context_changes_;
  if (!next.cache.snapshot.empty() &&
      (!usable_ || !generation_ || next.cache.snapshot != generation_->config.cache.snapshot)) {
    // Privileges may be dropped by now: a directory that cannot be made is reported.
    const std::string why = ensure_directory(directory_of(snapshot_path_when_running(next)), {});
    if (!why.empty())
      RSV_LOG(warning, "cache snapshot %s: %s; the daemon runs without it", next.cache.snapshot.c_str(), why.c_str());
    usable_ = why.empty();
  }
  generation_ = std::move(generation);
  if (timer_) arm();
}

void CacheSnapshots::arm() {
  timer_->stop();
  const Config &config = generation_->config;
  if (!usable_ || config.cache.snapshot.empty() || config.cache.snapshot_interval == 0) return;
  timer_->start(uint64_t{config.cache.snapshot_interval} * 1000, [this] {
    write_in_background();
    arm();
  });
}

std::string CacheSnapshots::current_context() const {
  return validation_context(*generation_, caches_.negative_anchors.runtime_names());
}

std::function<bool()> CacheSnapshots::unchanged_since_now() const {
  // Read before the caches are: a change that comes after shows in the counts, and
  // every entry judged under it was stored after it was counted.
  const uint64_t context_changes = context_changes_.load();
  const uint64_t anchor_changes = caches_.negative_anchors.changes();
  return [this, context_changes, anchor_changes] {
    return context_changes_.load() == context_changes && caches_.negative_anchors.changes() == anchor_changes;
  };
}

void CacheSnapshots::write_in_background() {
  if (writing_.exchange(true)) return;  // the last one is still being written
  if (writer_.joinable()) writer_.join();
  const Config &config = generation_->config;
  std::string path = snapshot_path_when_running(config);
  SnapshotWriteOptions options = write_options(config);
  options.still_valid = unchanged_since_now();
  std::string context = current_context();
  writer_ = std::thread([this, path = std::move(path), context = std::move(context), options]() mutable {
    options.context = context;
    SnapshotWriteResult result = write_snapshot_file(path, caches_.messages, caches_.rrsets, options);
    log_write(path, result, false);
    loop_.post([this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.lock()) finish_background_write();
    });
  });
}

void CacheSnapshots::finish_background_write() {
  if (writer_.joinable()) writer_.join();
  writing_ = false;
}

void CacheSnapshots::write_final() {
  timer_.reset();
  if (writer_.joinable()) writer_.join();
  writing_ = false;
  if (!usable_ || !generation_ || generation_->config.cache.snapshot.empty()) return;
  const Config &config = generation_->config;
  const std::string path = snapshot_path_when_running(config);
  const std::string context = current_context();
  SnapshotWriteOptions options = write_options(config);
  options.context = context;
  log_write(path, write_snapshot_file(path, caches_.messages, caches_.rrsets, options), true);
}

}  // namespace rsv
