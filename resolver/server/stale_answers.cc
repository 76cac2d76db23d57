#include "resolver/server/stale_answers.h"

namespace rsv {

namespace {

ExtendedError stale_error(uint16_t rcode_value) {
  // RFC 8914 4.4 and 4.20.
  return rcode_value == rcode::NXDOMAIN ? ExtendedError{ede::STALE_NXDOMAIN, "stale NXDOMAIN answer (RFC 8767)"}
                                        : ExtendedError{ede::STALE_ANSWER, "stale answer (RFC 8767)"};
}

}  // namespace

std::optional<StaleAnswers::Found> StaleAnswers::find(const Question &question, bool dnssec_ok,
                                                      bool checking_disabled) const {
  if (!config_.cache.serve_stale) return std::nullopt;
  const uint8_t flags = static_cast<uint8_t>((dnssec_ok ? message_flags::DO : 0) |
                                             (checking_disabled ? message_flags::CD : 0));
  if (auto found = from_messages(question, flags)) return found;
  return from_rrsets(question, dnssec_ok);
}

std::optional<StaleAnswers::Found> StaleAnswers::from_messages(const Question &question, uint8_t flags) const {
  auto cached = messages_.lookup_stale(question.name, question.qtype, question.qclass, flags,
                                       config_.cache.max_stale, kStaleTtl);
  if (!cached) return std::nullopt;
  ParseError error = ParseError::none;
  auto message = parse_message(reinterpret_cast<const uint8_t *>(cached->wire.data()), cached->wire.size(), &error);
  if (!message) return std::nullopt;
  Found found;
  found.resolution.rcode = message->rcode;
  found.resolution.answer = std::move(message->answer);
  found.resolution.authority = std::move(message->authority);
  found.resolution.security = cached->security;
  found.resolution.error = stale_error(message->rcode);
  found.refresh_recently_failed = cached->refresh_failed_until > clock_.now_seconds();
  return found;
}

std::optional<StaleAnswers::Found> StaleAnswers::from_rrsets(const Question &question, bool dnssec_ok) const {
  auto cached = rrsets_.lookup_stale(question.name, question.qtype, config_.cache.max_stale, question.qclass);
  // As answer_from_cache_only: an answer, not glue or a referral's NS set; and with
  // validation on, only what the validator judged (RFC 4035 4.7).
  if (!cached || cached->trust < Trust::answer) return std::nullopt;
  if (config_.dnssec.validation && cached->security != Security::secure && cached->security != Security::insecure)
    return std::nullopt;
  cached->rrset.ttl = kStaleTtl;
  Found found;
  found.resolution.rcode = rcode::NOERROR;
  found.resolution.answer = cached->rrset.records();
  if (dnssec_ok)
    for (auto sig : cached->rrset.signatures) {
      sig.ttl = kStaleTtl;
      found.resolution.answer.push_back(std::move(sig));
    }
  found.resolution.security = cached->security;
  found.resolution.error = stale_error(rcode::NOERROR);
  return found;
}

void StaleAnswers::note_failure(const Question &question) {
  if (!config_.cache.serve_stale || config_.cache.stale_refresh_time == 0) return;
  messages_.note_refresh_failure(question.name, question.qtype, question.qclass,
                                 clock_.now_seconds() + config_.cache.stale_refresh_time);
}

void StaleAnswers::forget(const Question &question) {
  for (uint8_t flags = 0; flags <= (message_flags::DO | message_flags::CD); ++flags)
    messages_.erase(question.name, question.qtype, question.qclass, flags);
}

}  // namespace rsv
