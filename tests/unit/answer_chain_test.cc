#include "resolver/iter/answer_chain.h"

#include <gtest/gtest.h>

#include "tests/unit/test_records.h"

namespace rsv {
namespace {

using testing::n;
using testing::records;

TEST(AnswerChain, FindsDataDirectly) {
  auto answer = records("www.example. A 192.0.2.1\nwww.example. A 192.0.2.2\nother.example. A 192.0.2.3\n");
  std::vector<Name> visited{n("www.example.")};
  auto chain = follow_answer_chain(answer, n("www.example."), rrtype::A, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::data);
  EXPECT_EQ(chain.records.size(), 2u) << "records off the chain are ignored";
}

TEST(AnswerChain, FollowsCnamesAndStopsWhereTheAnswerEnds) {
  auto answer = records("a.example. CNAME b.example.\nb.example. CNAME c.other.\n");
  std::vector<Name> visited{n("a.example.")};
  auto chain = follow_answer_chain(answer, n("a.example."), rrtype::A, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::open);
  EXPECT_EQ(chain.final_name, n("c.other."));
  EXPECT_EQ(chain.records.size(), 2u);
  EXPECT_EQ(visited.size(), 3u);
}

TEST(AnswerChain, SynthesizesCnameFromDnameWithItsTtl) {
  auto answer = records("old.example. 77 DNAME new.example.\nwww.new.example. A 192.0.2.9\n");
  std::vector<Name> visited{n("www.old.example.")};
  auto chain = follow_answer_chain(answer, n("www.old.example."), rrtype::A, visited, 11);
  ASSERT_EQ(chain.end, AnswerChain::End::data);
  ASSERT_EQ(chain.records.size(), 3u);
  EXPECT_EQ(chain.records[1].type, rrtype::CNAME);
  EXPECT_EQ(chain.records[1].ttl, 77u);
  EXPECT_EQ(*chain.records[1].rdata_target(), n("www.new.example."));
  EXPECT_EQ(chain.cacheable.size(), 2u) << "the synthesized CNAME is not cached";
}

TEST(AnswerChain, DetectsLoops) {
  auto answer = records("a.example. CNAME b.example.\nb.example. CNAME a.example.\n");
  std::vector<Name> visited{n("a.example.")};
  auto chain = follow_answer_chain(answer, n("a.example."), rrtype::A, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::loop);
}

TEST(AnswerChain, EnforcesTheChainBudget) {
  std::string text;
  for (int i = 0; i < 20; ++i)
    text += "c" + std::to_string(i) + ".example. CNAME c" + std::to_string(i + 1) + ".example.\n";
  std::vector<Name> visited{n("c0.example.")};
  auto chain = follow_answer_chain(records(text), n("c0.example."), rrtype::A, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::too_long);
  EXPECT_LE(chain.records.size(), 12u);
}

TEST(AnswerChain, ReportsDnameOverflow) {
  std::string long_target;
  for (int i = 0; i < 4; ++i) long_target += std::string(60, 'x') + ".";
  auto answer = records("d.example. DNAME " + long_target + "\n");
  std::vector<Name> visited{n("aaaaaaaaaa.d.example.")};
  auto chain = follow_answer_chain(answer, n("aaaaaaaaaa.d.example."), rrtype::A, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::dname_overflow);
}

TEST(AnswerChain, QueryForCnameTypeReturnsTheCname) {
  auto answer = records("a.example. CNAME b.example.\n");
  std::vector<Name> visited{n("a.example.")};
  auto chain = follow_answer_chain(answer, n("a.example."), rrtype::CNAME, visited, 11);
  EXPECT_EQ(chain.end, AnswerChain::End::data);
}

}  // namespace
}  // namespace rsv
