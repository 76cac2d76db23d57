// ClientQueryHandler's answers from the policy: local zones and data, blocklists and
// CNAME cloaking (resolver/policy/policy.h). The rest of the handler is in
// query_handler.cc.
#include "resolver/server/query_handler.h"

namespace rsv {

std::optional<Disposition> ClientQueryHandler::policy_answer(QueryContext &context, const Message &query) {
  const Question &question = query.questions[0];
  if (!policy_->intercepts(question.name.lowered().wire())) return std::nullopt;
  // A household's own names come first: a list cannot block them.
  if (auto local = policy_->local_answer(question)) {
    if (local->kind == LocalAnswer::Kind::drop) {
      ++stats_.dropped;
      return Disposition::drop;
    }
    ++stats_.local_answers;
    return reply_now(context, local_reply(query, *local, context.tcp));
  }
  if (auto block = policy_->blocked(question.name)) {
    const Resolution blocked = blocked_resolution(question, *block, nullptr);
    return reply_now(context, build_reply(query, blocked, context.tcp, false));
  }
  return std::nullopt;  // an allowlisted name, or a fingerprint that only looked alike
}

std::string ClientQueryHandler::local_reply(const Message &query, const LocalAnswer &local, bool tcp) const {
  Message reply;
  reply.id = query.id;
  reply.qr = true;
  reply.rd = query.rd;
  reply.ra = true;
  reply.cd = query.cd;
  reply.aa = local.authoritative;  // a referral from an auth zone is not
  reply.ad = false;                // local data is not validated
  reply.rcode = local.rcode;
  reply.questions = query.questions;
  reply.answer = local.answer;
  reply.authority = local.authority;
  reply.additional = local.additional;
  if (query.edns) {
    Edns edns;
    edns.udp_size = config_.network.edns_buffer_size;
    edns.dnssec_ok = query.edns->dnssec_ok;
    reply.edns = edns;
    if (local.error) reply.add_extended_error(*local.error);
  }
  return encode_message(reply, udp_limit(query, tcp)).wire;
}

Resolution ClientQueryHandler::blocked_resolution(const Question &question, const Policy::Block &block,
                                                  const Name *cloaked_target) {
  const LoadedList &list = policy_->lists().at(block.list);
  ++*list_counters_.at(block.list);
  BlockedAnswer answer =
      blocked_answer(question, block.action, list.source.name, policy_->blocked_ttl(), cloaked_target);
  Resolution out;
  out.rcode = answer.rcode;
  out.answer = std::move(answer.answer);
  out.error = std::move(answer.error);
  out.security = Security::unchecked;
  out.cacheable = false;
  return out;
}

std::optional<std::pair<Policy::Block, Name>> ClientQueryHandler::cloaking_block(
    const Resolution &result) const {
  for (const ResourceRecord &record : result.answer) {
    if (record.type != rrtype::CNAME && record.type != rrtype::DNAME) continue;
    auto target = Name::from_wire(record.rdata);
    if (!target) continue;
    if (auto block = policy_->blocked(*target)) return std::make_pair(*block, *target);
  }
  return std::nullopt;
}

}  // namespace rsv
