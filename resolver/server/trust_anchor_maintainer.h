// Trust anchor maintenance on the control loop: RFC 5011 refreshes (dnssec.rfc5011)
// and RFC 8145 key tag signalling (dnssec.trust-anchor-signaling).
//
// At start-up the daemon hands over the configured anchors (anchors_for): with RFC
// 5011 on, the state file (dnssec.trust-anchor-state) is read (only when one of
// `state_owners` could alone have written it: resolver/base/private_file.h; anything
// else is reported and the configured anchors are used), and for every
// configured zone it covers, what it learned replaces the configured anchor (as
// Unbound's auto-trust-anchor-file does); a corrupt file is reported, set aside as
// FILE.corrupt, and the configured anchors are used; before that, temporary files a
// write cut short by a crash left beside it are removed (remove_leftover_writes in
// state_files.h). A reload does the same with the
// newly configured anchors: zones added are tracked from their configuration, zones
// removed are dropped.
//
// Once running (start()), each anchored zone's DNSKEY RRset is fetched when its
// trust point says (dnssec/rfc5011.h: the RFC 5011 2.3 refresh or retry time), by
// a private resolution with CD set (resolver/server/private_resolver.h), and given
// to the trust point, which validates it against its own keys before learning
// anything. Every transition is logged; the state file is rewritten atomically after
// each refresh; when the keys to validate with change, the daemon is told
// (AdoptAnchors: a new Generation with the same configuration and the new anchors).
//
// RFC 8145 5.1: the "_ta-XXXX" NULL query for each anchored zone is sent at start,
// after each refresh, and daily when RFC 5011 is off, with the key tags of the
// anchors in force. The edns-key-tag option (RFC 8145 4) is the engine's (dispatch()).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnssec/rfc5011.h"
#include "resolver/net/event_loop.h"
#include "resolver/server/caches.h"
#include "resolver/server/generation.h"
#include "resolver/server/private_resolver.h"

namespace rsv {

class TrustAnchorMaintainer {
public:
  using CurrentGeneration = std::function<std::shared_ptr<Generation>()>;
  // The anchors to validate with from now on, and why (for the log).
  using AdoptAnchors = std::function<void(std::vector<TrustAnchor>, const std::string &why)>;

  // `state_owners`: who may own the state file (daemon_file_owners, private_file.h).
  TrustAnchorMaintainer(EventLoop &loop, Caches &caches, const DnssecConfig &config,
                        std::vector<uid_t> state_owners, CurrentGeneration current, AdoptAnchors adopt);
  ~TrustAnchorMaintainer();
  TrustAnchorMaintainer(const TrustAnchorMaintainer &) = delete;
  TrustAnchorMaintainer &operator=(const TrustAnchorMaintainer &) = delete;

  // The anchors to use given the configured ones (RFC 5011 off: the same). The first
  // call reads the state file.
  std::vector<TrustAnchor> anchors_for(const std::vector<TrustAnchor> &configured);
  // After chroot(root): the state file is written at its path inside the new root.
  void entered_chroot(const std::string &root);
  // Starts the refresh and signalling timers (the loop must be running or about to).
  void start();

  bool rfc5011() const { return rfc5011_; }
  const std::string &state_path() const { return state_path_; }
  const std::vector<TrustPoint> &trust_points() const { return points_; }

private:
  void load_state();
  void schedule();
  void refresh(size_t index);
  void on_refreshed(const Name &zone, const Resolution &result);
  void save_state();
  void signal(const Name &zone);
  void signal_all();
  void start_daily_signal();
  TrustPoint *point_for(const Name &zone);
  std::vector<TrustAnchor> current_anchors() const;

  EventLoop &loop_;
  Caches &caches_;
  const bool rfc5011_;
  const bool signaling_;
  const std::string configured_state_path_;
  std::string state_path_;  // where it is written now (inside a chroot, once entered)
  const std::vector<uid_t> state_owners_;
  const Rfc5011Timers timers_;
  const DnssecConfig limits_;
  CurrentGeneration current_;
  AdoptAnchors adopt_;
  PrivateResolver resolver_;
  std::vector<TrustPoint> points_;
  std::vector<TrustAnchor> configured_;
  std::map<std::string, bool> in_flight_;          // zone text -> a refresh is running
  std::optional<std::vector<TrustPoint>> stored_;  // the state file's trust points, once read
  bool state_read_ = false;
  bool started_ = false;
  Timer refresh_timer_;
  Timer signal_timer_;
};

}  // namespace rsv
