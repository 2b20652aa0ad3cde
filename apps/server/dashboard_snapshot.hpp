#pragma once
// The JSON the dashboard's WebSocket carries (apps/dashboard/app.js reads
// it): snapshots of every node, and replies to the page's commands.

#include <boost/json/value.hpp>
#include <cstdint>
#include <exception>
#include <string>

#include "dashboard.hpp"

namespace conflux::server {

/// {"type":"snapshot","controls":bool,"nodes":[{id, http, running, status,
/// log: [{index, term, committed, action, configuration?}], state,
/// provisional, members (as GET /members)}]}
std::string snapshot_json(DashboardSource& source);

/// {"type":"reply","id":id,"ok":true,"result":result}
std::string reply_json(std::int64_t id, const boost::json::value& result);
/// {"type":"reply","id":id,"ok":false,"error":error,"code":code}
std::string reply_json(std::int64_t id, const std::string& error, const std::string& code);
/// The reply for a perform's outcome.
std::string reply_json(std::int64_t id, std::exception_ptr failure,
                       const boost::json::value& result);

}  // namespace conflux::server
