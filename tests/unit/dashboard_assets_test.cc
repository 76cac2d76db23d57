// The dashboard's files are compiled into the binary, byte for byte, and ask nothing
// of another server.
#include "resolver/server/dashboard_assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace rsv {
namespace {

const std::filesystem::path kDashboardDir = std::filesystem::path(RESOLVER_SOURCE_DIR) / "resolver/server/dashboard";

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DashboardAssets, EveryFileOfTheFolderIsEmbeddedUnchanged) {
  size_t files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(kDashboardDir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string path = "/" + entry.path().filename().string();
    const DashboardAsset *asset = find_dashboard_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    EXPECT_EQ(asset->body, read_file(entry.path())) << path;
  }
  EXPECT_GE(files, 3u);
  EXPECT_EQ(static_cast<size_t>(dashboard_assets_end() - dashboard_assets_begin()), files);
}

TEST(DashboardAssets, TheRootIsTheIndexPageAndTypesFollowExtensions) {
  const DashboardAsset *index = find_dashboard_asset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->path, "/index.html");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<!DOCTYPE html>"), std::string_view::npos);
  ASSERT_NE(find_dashboard_asset("/dashboard.js"), nullptr);
  EXPECT_EQ(find_dashboard_asset("/dashboard.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(find_dashboard_asset("/dashboard.css"), nullptr);
  EXPECT_EQ(find_dashboard_asset("/dashboard.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_dashboard_asset("/absent.js"), nullptr);
  EXPECT_EQ(find_dashboard_asset("/../CMakeLists.txt"), nullptr);
}

TEST(DashboardAssets, NothingIsLoadedFromElsewhere) {
  // No CDN, font or script from another server: the page works without the Internet.
  for (const DashboardAsset *asset = dashboard_assets_begin(); asset != dashboard_assets_end(); ++asset) {
    for (const char *external : {"http://", "https://", "//cdn", "@import", "url(http"})
      EXPECT_EQ(asset->body.find(external), std::string_view::npos) << asset->path << " has " << external;
  }
}

}  // namespace
}  // namespace rsv
