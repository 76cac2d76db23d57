// The readable form of an explain report (resolver/server/explain_trace.h): what
// `resolverctl explain` prints, made to be pasted into a ticket as it is.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace rsv {

std::string render_explain_text(const nlohmann::json &report);

}  // namespace rsv
