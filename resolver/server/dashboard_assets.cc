#include "resolver/server/dashboard_assets.h"

namespace rsv {

// Defined in the generated dashboard_assets_data.cc.
extern const DashboardAsset kDashboardAssets[];
extern const size_t kDashboardAssetCount;

const DashboardAsset *dashboard_assets_begin() { return kDashboardAssets; }
const DashboardAsset *dashboard_assets_end() { return kDashboardAssets + kDashboardAssetCount; }

const DashboardAsset *find_dashboard_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const DashboardAsset *asset = dashboard_assets_begin(); asset != dashboard_assets_end(); ++asset)
    if (asset->path == path) return asset;
  return nullptr;
}

}  // namespace rsv
