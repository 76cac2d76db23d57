// The dashboard's files (resolver/server/dashboard/), compiled into the binary.
//
// At build time resolver/server/embed_assets.cmake turns every file of that folder
// into a byte array in a generated source (dashboard_assets_data.cc in the build
// directory), so the daemon serves its page with no file to install and the page
// needs nothing from the network: no CDN, fonts or scripts from elsewhere.
#pragma once

#include <cstddef>
#include <string_view>

namespace rsv {

struct DashboardAsset {
  std::string_view path;          // "/index.html", "/dashboard.js", ...
  std::string_view content_type;  // from the file's extension
  std::string_view body;
};

// Every embedded file, in the order of their names.
const DashboardAsset *dashboard_assets_begin();
const DashboardAsset *dashboard_assets_end();
// The file for a request path ("/" is "/index.html"); null when there is none.
const DashboardAsset *find_dashboard_asset(std::string_view path);

}  // namespace rsv
