#include "dnssec/trust_anchor.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "resolver/wire/ldns_convert.h"

namespace rsv {
namespace {

// A real DNSKEY (the root's KSK-2017, tag 20326), reused under test zone names.
constexpr const char *kKeyData =
    "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWX"
    "gnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/"
    "EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzu"
    "DWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";

class TrustAnchorTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "trust_anchor_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &file, const std::string &text) {
    std::string path = dir_ + "/" + file;
    std::ofstream(path) << text;
    return path;
  }
  std::string error_of(const std::string &text) {
    std::string path = write("bad.anchor", text);
    try {
      load_trust_anchor_files({path});
    } catch (const std::runtime_error &e) {
      return e.what();
    }
    return "";
  }
  // Where error_of writes, as its messages begin.
  std::string bad_file() const { return dir_ + "/bad.anchor"; }
  std::string dir_;
};

Name name(const char *text) {
  return *Name::from_text(text);
}

TEST_F(TrustAnchorTest, GroupsDsAndDnskeyPerZoneAcrossFiles) {
  std::string first = write("first.anchors",
                            "; anchors for two test zones\n"
                            "$TTL 3600\n"
                            "$ORIGIN test.\n"
                            "@  IN DS 12345 8 2 ( 0123456789ABCDEF0123456789ABCDEF\n"
                            "                    0123456789ABCDEF0123456789ABCDEF ) ; split digest\n"
                            "example  IN DNSKEY 257 3 8 (\n"
                            "    " +
                                std::string(kKeyData) +
                                "\n"
                                "    ) ; a KSK on its own lines\n");
  std::string second =
      write("second.anchors",
            "example.test. 60 IN DS 54321 13 2 "
            "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\n"
            "test. IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n");
  std::vector<TrustAnchor> anchors = load_trust_anchor_files({first, second});
  ASSERT_EQ(anchors.size(), 2u);

  EXPECT_EQ(anchors[0].zone, name("test."));
  ASSERT_EQ(anchors[0].ds.size(), 1u);  // the copy in the second file is a duplicate
  EXPECT_TRUE(anchors[0].dnskey.empty());
  const ResourceRecord &ds = anchors[0].ds[0];
  EXPECT_EQ(ds.type, rrtype::DS);
  EXPECT_EQ(ds.ttl, 3600u);
  ASSERT_EQ(ds.rdata.size(), 4u + 32u);  // RFC 4034 5.1 with a SHA-256 digest
  EXPECT_EQ(static_cast<uint8_t>(ds.rdata[0]), 12345 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(ds.rdata[1]), 12345 & 0xff);
  EXPECT_EQ(ds.rdata[2], 8);
  EXPECT_EQ(ds.rdata[3], 2);
  EXPECT_EQ(static_cast<uint8_t>(ds.rdata[4]), 0x01);

  EXPECT_EQ(anchors[1].zone, name("example.test."));
  ASSERT_EQ(anchors[1].dnskey.size(), 1u);
  ASSERT_EQ(anchors[1].ds.size(), 1u);
  EXPECT_EQ(anchors[1].dnskey[0].owner, name("example.test."));
  EXPECT_EQ(anchors[1].dnskey[0].rdata.substr(0, 4), std::string("\x01\x01\x03\x08", 4));
  EXPECT_EQ(anchors[1].ds[0].ttl, 60u);
}

TEST_F(TrustAnchorTest, RecordsSurviveTheLdnsConversion) {
  std::vector<TrustAnchor> anchors =
      parse_trust_anchor_text(std::string(". IN DNSKEY 257 3 8 ") + kKeyData + "\n", "inline");
  ASSERT_EQ(anchors.size(), 1u);
  const ResourceRecord &key = anchors[0].dnskey.at(0);
  LdnsRr rr = to_ldns_rr(key);
  EXPECT_EQ(ldns_rr_get_type(rr.get()), LDNS_RR_TYPE_DNSKEY);
  EXPECT_EQ(ldns_calc_keytag(rr.get()), 20326);  // the root KSK-2017's tag
  ResourceRecord back = from_ldns_rr(rr.get());
  EXPECT_EQ(back.owner, key.owner);
  EXPECT_EQ(back.rdata, key.rdata);
  EXPECT_EQ(back.ttl, key.ttl);
}

TEST_F(TrustAnchorTest, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(error_of("; ok so far\n. IN DS 20326 8 2 E06D44B8\n. IN DS 20326 8\n"),
            bad_file() + ":3: Syntax error, value expected");
  EXPECT_EQ(error_of(". IN DS 20326 8 2 NOTHEX\n"),
            bad_file() + ":1: Syntax error, could not parse the RR's rdata");
  EXPECT_EQ(error_of("\n\nexample. IN A 192.0.2.1\n"),
            bad_file() + ":3: unexpected A record: a trust anchor is a DS or DNSKEY record");
  EXPECT_EQ(error_of(std::string(". IN DNSKEY 256 2 8 ") + kKeyData + "\n"),
            bad_file() + ":1: DNSKEY protocol field must be 3 (RFC 4034 2.1.2)");
  EXPECT_EQ(error_of(std::string(". IN DNSKEY 1 3 8 ") + kKeyData + "\n"),
            bad_file() + ":1: DNSKEY without the Zone Key flag cannot verify signatures (RFC 4034 2.1.1)");
  EXPECT_EQ(error_of(". CH DS 20326 8 2 E06D44B8\n"), bad_file() + ":1: trust anchors must be class IN");
  EXPECT_EQ(error_of("$INCLUDE other.file\n"), bad_file() + ":1: $INCLUDE is not supported here");
}

TEST_F(TrustAnchorTest, RevokedKeysAreSkipped) {
  // 385 = zone key + REVOKE + SEP (RFC 5011 7).
  std::string revoked = std::string("example. IN DNSKEY 385 3 8 ") + kKeyData + "\n";
  EXPECT_EQ(error_of(revoked), bad_file() + ":1: every trust anchor for 'example.' is a revoked key");
  std::string both = write("both.anchors", revoked + "example. IN DS 1 8 2 " + std::string(64, 'A') + "\n");
  std::vector<TrustAnchor> anchors = load_trust_anchor_files({both});
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_TRUE(anchors[0].dnskey.empty());
  EXPECT_EQ(anchors[0].ds.size(), 1u);
}

TEST_F(TrustAnchorTest, BuiltinRootAnchorMatchesTheShippedFile) {
  TrustAnchor builtin = builtin_root_trust_anchor();
  EXPECT_TRUE(builtin.zone.is_root());
  ASSERT_EQ(builtin.ds.size(), 2u);
  EXPECT_TRUE(builtin.dnskey.empty());
  EXPECT_NE(builtin.ds[0].to_text().find(
                "20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d"),
            std::string::npos)
      << builtin.ds[0].to_text();
  EXPECT_NE(builtin.ds[1].to_text().find(
                "38696 8 2 683d2d0acb8c9b712a1948b27f741219298d0a450d612c483af444a4c0fb2b16"),
            std::string::npos);
  std::vector<TrustAnchor> shipped =
      load_trust_anchor_files({std::string(RESOLVER_SOURCE_DIR) + "/conf/root.ds"});
  ASSERT_EQ(shipped.size(), 1u);
  ASSERT_EQ(shipped[0].ds.size(), 2u);
  EXPECT_EQ(shipped[0].ds[0].rdata, builtin.ds[0].rdata);
  EXPECT_EQ(shipped[0].ds[1].rdata, builtin.ds[1].rdata);
}

TEST_F(TrustAnchorTest, FallbackFollowsTheConfigurationRule) {
  std::string absent = dir_ + "/absent.ds";
  // The default list with its file missing: the built-in root anchor.
  std::vector<TrustAnchor> fallback = effective_trust_anchors({absent}, false);
  ASSERT_EQ(fallback.size(), 1u);
  EXPECT_TRUE(fallback[0].zone.is_root());
  EXPECT_EQ(fallback[0].ds.size(), 2u);
  // Named explicitly: a missing file is an error and an empty list means none.
  EXPECT_THROW(effective_trust_anchors({absent}, true), std::runtime_error);
  EXPECT_TRUE(effective_trust_anchors({}, true).empty());
  // A file that exists is read exactly, with no built-in anchor added.
  std::string own = write("own.ds", "test. IN DS 1 8 2 " + std::string(64, 'B') + "\n");
  for (bool explicitly : {false, true}) {
    std::vector<TrustAnchor> anchors = effective_trust_anchors({own}, explicitly);
    ASSERT_EQ(anchors.size(), 1u);
    EXPECT_EQ(anchors[0].zone, name("test."));
  }
}

}  // namespace
}  // namespace rsv
