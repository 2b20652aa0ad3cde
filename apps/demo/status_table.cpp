#include "status_table.hpp"

#include <array>
#include <cstdio>

namespace conflux::demo {

std::string status_table(DemoCluster& cluster) {
  std::string out = "node  role           term  leader  commit  applied  http\n";
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    std::array<char, 160> row{};
    const auto url = cluster.http_url(i);
    if (auto* node = cluster.node(i)) {
      const auto s = node->status();
      std::snprintf(row.data(), row.size(), "%-5s %-14s %4llu  %-6s  %6llu  %7llu  %s\n",
                    s.id.c_str(), s.role.c_str(), static_cast<unsigned long long>(s.term),
                    s.leader.empty() ? "-" : s.leader.c_str(),
                    static_cast<unsigned long long>(s.commit),
                    static_cast<unsigned long long>(s.applied), url.c_str());
    } else {
      std::snprintf(row.data(), row.size(), "%-5s %-14s %4s  %-6s  %6s  %7s  %s\n",
                    cluster.id(i).c_str(), "(killed)", "-", "-", "-", "-", url.c_str());
    }
    out += row.data();
  }
  return out;
}

}  // namespace conflux::demo
