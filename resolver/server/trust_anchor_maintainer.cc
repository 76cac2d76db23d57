#include "resolver/server/trust_anchor_maintainer.h"

#include <algorithm>
#include <cstdio>

#include "dnssec/rfc5011_state.h"
#include "dnssec/trust_anchor_signal.h"
#include "resolver/base/log.h"
#include "resolver/server/state_files.h"

namespace rsv {
namespace {

// RFC 8145 does not set a pace; without RFC 5011 refreshes, once a day keeps the
// zone operators' view current without adding measurable traffic.
constexpr uint64_t kSignalIntervalMs = 24ull * 3600 * 1000;

std::string in_seconds(int64_t when, int64_t now) {
  return when <= now ? std::string("now") : "in " + format_seconds(static_cast<uint64_t>(when - now));
}

std::string tags_text(const std::vector<uint16_t> &tags) {
  std::string out;
  for (uint16_t tag : tags) out += (out.empty() ? "" : " ") + std::to_string(tag);
  return out.empty() ? "none" : out;
}

}  // namespace

TrustAnchorMaintainer::TrustAnchorMaintainer(EventLoop &loop, Caches &caches, const DnssecConfig &config,
                                             std::vector<uid_t> state_owners, CurrentGeneration current,
                                             AdoptAnchors adopt)
    : loop_(loop),
      caches_(caches),
      rfc5011_(config.rfc5011),
      signaling_(config.trust_anchor_signaling),
      configured_state_path_(config.trust_anchor_state),
      state_path_(config.trust_anchor_state),
      state_owners_(std::move(state_owners)),
      timers_(Rfc5011Timers::from(config)),
      limits_(config),
      current_(std::move(current)),
      adopt_(std::move(adopt)),
      resolver_(loop, caches),
      refresh_timer_(loop),
      signal_timer_(loop) {}

TrustAnchorMaintainer::~TrustAnchorMaintainer() = default;

void TrustAnchorMaintainer::load_state() {
  state_read_ = true;
  // Once, at start, before the first write: what a write cut short by a crash left.
  remove_leftover_writes(state_path_);
  // What the file says is trusted as much as the configured anchors: only a file the
  // daemon (or root) alone could have written is read.
  PrivateFileContents read = read_private_file(state_path_, state_owners_, kMaxTrustPointStateBytes);
  if (read.missing) {
    RSV_LOG(info, "RFC 5011: no state at %s yet: starting from the configured trust anchors",
            state_path_.c_str());
    return;
  }
  if (!read.error.empty()) {
    RSV_LOG(error, "RFC 5011: the state file %s is not read: %s; the configured trust anchors are used",
            state_path_.c_str(), read.error.c_str());
    return;
  }
  const std::string &text = read.contents;
  try {
    stored_ = parse_trust_point_state(text);
  } catch (const std::exception &e) {
    // Kept for the operator to look at; the next refresh writes a new file.
    const std::string aside = state_path_ + ".corrupt";
    const bool moved = std::rename(state_path_.c_str(), aside.c_str()) == 0;
    RSV_LOG(error, "RFC 5011: the state file %s is corrupt (%s)%s; the configured trust anchors are used",
            state_path_.c_str(), e.what(), moved ? (", set aside as " + aside).c_str() : "");
  }
}

std::vector<TrustAnchor> TrustAnchorMaintainer::anchors_for(const std::vector<TrustAnchor> &configured) {
  configured_ = configured;
  if (!rfc5011_) return configured;
  if (!state_read_) load_state();
  const int64_t now = caches_.clock.now_seconds();
  std::vector<TrustPoint> next;
  for (const TrustAnchor &anchor : configured) {
    if (TrustPoint *running = point_for(anchor.zone)) {
      next.push_back(*running);
      continue;
    }
    bool from_state = false;
    if (stored_) {
      for (TrustPoint &stored : *stored_) {
        if (stored.zone() != anchor.zone) continue;
        next.push_back(std::move(stored));
        from_state = true;
        RSV_LOG(info,
                "RFC 5011: %s: the state in %s takes precedence over the configured anchor (key tags %s)",
                anchor.zone.to_text().c_str(), state_path_.c_str(),
                tags_text(next.back().trusted_key_tags()).c_str());
        break;
      }
    }
    if (!from_state) {
      next.push_back(TrustPoint::from_anchor(anchor, now));
      RSV_LOG(info, "RFC 5011: tracking %s from its configured anchor (key tags %s)",
              anchor.zone.to_text().c_str(), tags_text(next.back().trusted_key_tags()).c_str());
    }
  }
  for (const TrustPoint &old : points_) {
    bool kept = false;
    for (const TrustPoint &point : next) kept = kept || point.zone() == old.zone();
    if (!kept)
      RSV_LOG(info, "RFC 5011: %s is no longer an anchored zone: no longer tracked",
              old.zone().to_text().c_str());
  }
  if (stored_) {
    for (const TrustPoint &stored : *stored_)
      if (std::none_of(next.begin(), next.end(),
                       [&](const TrustPoint &p) { return p.zone() == stored.zone(); }))
        RSV_LOG(info, "RFC 5011: %s is in the state file but not configured: ignored",
                stored.zone().to_text().c_str());
    stored_.reset();  // read once; the trust points hold it from now on
  }
  points_ = std::move(next);
  if (started_) schedule();
  return current_anchors();
}

std::vector<TrustAnchor> TrustAnchorMaintainer::current_anchors() const {
  std::vector<TrustAnchor> anchors;
  for (const TrustPoint &point : points_) anchors.push_back(point.anchor());
  return anchors;
}

TrustPoint *TrustAnchorMaintainer::point_for(const Name &zone) {
  for (TrustPoint &point : points_)
    if (point.zone() == zone) return &point;
  return nullptr;
}

void TrustAnchorMaintainer::entered_chroot(const std::string &root) {
  state_path_ = path_inside_chroot(configured_state_path_, root);
}

void TrustAnchorMaintainer::start() {
  started_ = true;
  if (rfc5011_) schedule();
  if (!signaling_) return;
  signal_all();
  // Without refreshes to follow, the key tag query is repeated daily.
  if (!rfc5011_) signal_timer_.start(kSignalIntervalMs, [this] { start_daily_signal(); });
}

void TrustAnchorMaintainer::start_daily_signal() {
  signal_all();
  signal_timer_.start(kSignalIntervalMs, [this] { start_daily_signal(); });
}

void TrustAnchorMaintainer::schedule() {
  if (!rfc5011_ || points_.empty()) return;
  const int64_t now = caches_.clock.now_seconds();
  std::optional<int64_t> earliest;
  for (const TrustPoint &point : points_) {
    if (in_flight_[point.zone().to_text()]) continue;
    if (!earliest || point.next_refresh < *earliest) earliest = point.next_refresh;
  }
  if (!earliest) return;  // every zone is being refreshed; each completion schedules again
  const uint64_t delay_ms = *earliest <= now ? 0 : static_cast<uint64_t>(*earliest - now) * 1000;
  refresh_timer_.start(delay_ms, [this] {
    const int64_t at = caches_.clock.now_seconds();
    for (size_t i = 0; i < points_.size(); ++i)
      if (points_[i].next_refresh <= at && !in_flight_[points_[i].zone().to_text()]) refresh(i);
    schedule();
  });
}

void TrustAnchorMaintainer::refresh(size_t index) {
  const Name zone = points_[index].zone();
  in_flight_[zone.to_text()] = true;
  RSV_LOG(debug, "RFC 5011: refreshing the DNSKEY set of %s", zone.to_text().c_str());
  // CD: the trust point validates the set against its own keys (dnssec/rfc5011.h).
  resolver_.resolve(current_(), Question{zone, rrtype::DNSKEY, rrclass::IN}, true,
                    [this, zone](const Resolution &result) { on_refreshed(zone, result); });
}

void TrustAnchorMaintainer::on_refreshed(const Name &zone, const Resolution &result) {
  in_flight_[zone.to_text()] = false;
  TrustPoint *point = point_for(zone);
  if (point == nullptr) {  // a reload stopped anchoring it meanwhile
    schedule();
    return;
  }
  const int64_t now = caches_.clock.now_seconds();
  RRset dnskeys;
  for (RRset &set : group_rrsets(result.answer))
    if (set.type == rrtype::DNSKEY && set.owner == zone) dnskeys = std::move(set);
  RefreshReport report;
  if (dnskeys.empty()) {
    std::string why = "no DNSKEY RRset (" + rcode_to_text(result.rcode) +
                      (result.error ? ", " + result.error->extra_text : std::string()) + ")";
    report = point->refresh_failed(why, now, timers_);
  } else {
    report = point->refresh(dnskeys, now, timers_, limits_);
  }
  for (const std::string &change : report.changes) RSV_LOG(info, "RFC 5011: %s", change.c_str());
  if (report.validated)
    RSV_LOG(debug, "RFC 5011: %s refreshed; next refresh %s", zone.to_text().c_str(),
            in_seconds(report.next_refresh, now).c_str());
  else
    RSV_LOG(warning, "RFC 5011: refreshing %s failed: %s; next try %s", zone.to_text().c_str(),
            report.problem.c_str(), in_seconds(report.next_refresh, now).c_str());
  if (report.trusted_changed) {
    const TrustAnchor anchor = point->anchor();
    if (anchor.ds.empty() && anchor.dnskey.empty())
      RSV_LOG(
          error,
          "RFC 5011: every trust anchor of %s has been revoked: nothing below it validates until an operator "
          "configures a new anchor (and removes %s)",
          zone.to_text().c_str(), state_path_.c_str());
    std::string why = "RFC 5011: the trusted keys of " + zone.to_text() + " are now " +
                      tags_text(point->trusted_key_tags());
    adopt_(current_anchors(), why);
  }
  save_state();
  if (signaling_) signal(zone);
  schedule();
}

void TrustAnchorMaintainer::save_state() {
  if (!rfc5011_) return;
  try {
    write_file_atomically(state_path_, serialize_trust_point_state(points_, caches_.clock.now_seconds()),
                          0644);
  } catch (const std::exception &e) {
    RSV_LOG(warning, "RFC 5011: the state could not be saved: %s", e.what());
  }
}

void TrustAnchorMaintainer::signal_all() {
  std::shared_ptr<Generation> generation = current_();
  for (const TrustAnchor &anchor : generation->anchors) signal(anchor.zone);
}

void TrustAnchorMaintainer::signal(const Name &zone) {
  std::shared_ptr<Generation> generation = current_();
  const TrustAnchor *anchor = anchor_for_zone(generation->anchors, zone);
  if (anchor == nullptr) return;
  const std::vector<uint16_t> tags = anchor_key_tags(*anchor);
  std::optional<Name> name = key_tag_query_name(zone, tags);
  if (!name) {
    RSV_LOG(debug, "RFC 8145: no key tag query for %s (key tags: %s)", zone.to_text().c_str(),
            tags_text(tags).c_str());
    return;
  }
  // RFC 8145 5.1: an ordinary question; its answer (normally NXDOMAIN) is of no use.
  const std::string text = name->to_text();
  resolver_.resolve(generation, Question{*name, rrtype_extra::NULL_TYPE, rrclass::IN}, false,
                    [text](const Resolution &result) {
                      RSV_LOG(debug, "RFC 8145: key tag query %s NULL: %s", text.c_str(),
                              rcode_to_text(result.rcode).c_str());
                    });
}

}  // namespace rsv
