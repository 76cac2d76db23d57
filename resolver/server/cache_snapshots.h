// The cache snapshot in the daemon (the format and its checks: cache/snapshot.h).
//
// At start, before any worker runs and before privileges are dropped, the daemon
// creates the snapshot's directory if it is missing (owned by `username` when one is
// set, so that the daemon can still write there afterwards), removes what a write cut
// short by a crash left beside the file (remove_leftover_writes, state_files.h) and
// restores what the file holds; a missing file is the first start, a bad one is
// reported (file and reason) and ignored. While the daemon runs, a helper thread
// writes the snapshot every cache.snapshot-interval seconds, one cache shard at a
// time so the workers are never held up for long; at shutdown, once the workers have
// stopped, it is written one last time on the main thread.
//
// What the security statuses in the file were judged under is written with it as its
// validation context: validation_settings (generation.h, the same text a reload
// compares before it flushes everything), the configured negative trust anchors and
// the forwarding (which a reload flushes name by name), and the negative trust anchors
// added at run time (`resolverctl nta add`) that the caches may still hold answers
// of: those in force, and those that lapsed but whose answers have not been flushed
// yet (dnssec/negative_trust_anchors.h). A file whose context differs from the
// running configuration's is ignored; a restart has no run-time anchors, so a
// snapshot written while one was in force is not used. (The context is the
// configuration's dump: an upgrade that changes how it reads costs one snapshot,
// never a wrong status.)
//
// A periodic write reads the caches over a while, on its own thread, while the workers
// go on: were the context to change meanwhile (a reload, an anchor added, removed or
// lapsed), the file could hold entries judged under the new one with the old one's
// label. So the writer notes two counts before it reads anything, the changes of the
// context the generations give and the changes of the run-time anchors, and gives the
// file up (the old one stays) when either moved by the time it is done. Both counts
// move before anything can be judged under the change: a new generation is applied
// here before any worker adopts it, and an anchor is counted when it is added.
// The file is the daemon's own: only one it (or root) owns, not writable by anyone
// else, is read (cache/snapshot.h); snapshot_file_limit bounds its size by cache.size.
//
// A reload applies cache.snapshot and cache.snapshot-interval to the writes that
// follow; the file is read only at start. With `chroot`, the path is the one seen
// inside the chroot, where every write happens; at start it is read from the same
// file outside it (CHROOT/PATH).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "resolver/net/event_loop.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"

namespace rsv {

// The settings the cached security statuses depend on, as text, with the names of
// the run-time negative trust anchors not yet flushed (none at start).
std::string validation_context(const Generation &generation,
                               const std::vector<Name> &runtime_negative_anchors);
// The largest snapshot file a cache of this size is read from.
uint64_t snapshot_file_limit(const CacheConfig &cache);
// cache.snapshot at start (before the chroot is entered: CHROOT/PATH) and once
// running (inside it), for a PATH given either way.
std::string snapshot_path_at_start(const Config &config);
std::string snapshot_path_when_running(const Config &config);

class CacheSnapshots {
public:
  CacheSnapshots(Caches &caches, EventLoop &control_loop);
  ~CacheSnapshots();
  CacheSnapshots(const CacheSnapshots &) = delete;
  CacheSnapshots &operator=(const CacheSnapshots &) = delete;

  // Start-up, before the workers and before privileges are dropped: the directory,
  // then the restore.
  void load_at_start(const Generation &generation);
  // Arms the periodic write (on the control loop).
  void start(std::shared_ptr<const Generation> generation);
  // A reload: the next writes go to the new path, at the new interval.
  void apply(std::shared_ptr<const Generation> generation);
  // Shutdown: waits for a periodic write under way, then writes on this thread.
  void write_final();

  // A check, for the writer's thread, that nothing changed the context since it was
  // made: no generation applied with another validation context, no run-time negative
  // trust anchor added, removed or taken as lapsed. (Public for its tests.)
  std::function<bool()> unchanged_since_now() const;

private:
  void arm();
  // The context of what the caches hold now (the generation's and the run-time anchors').
  std::string current_context() const;
  void write_in_background();
  void finish_background_write();

  Caches &caches_;
  EventLoop &loop_;
  std::shared_ptr<const Generation> generation_;
  std::unique_ptr<Timer> timer_;
  std::thread writer_;
  std::atomic<bool> writing_{false};
  std::atomic<uint64_t> context_changes_{0};  // generations applied with another context
  bool usable_ = true;  // false: its directory could not be made (reported)
  // The helper thread's word that it is done reaches the loop only while this lives.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace rsv
