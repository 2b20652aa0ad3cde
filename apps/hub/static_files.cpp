#include "static_files.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace conflux::hub {
namespace {

std::string content_type(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> types{{".html", "text/html; charset=utf-8"},
                                                        {".js", "text/javascript"},
                                                        {".mjs", "text/javascript"},
                                                        {".wasm", "application/wasm"},
                                                        {".css", "text/css"},
                                                        {".json", "application/json"},
                                                        {".png", "image/png"},
                                                        {".svg", "image/svg+xml"}};
  const auto found = types.find(file.extension().string());
  return found == types.end() ? "application/octet-stream" : found->second;
}

}  // namespace

std::optional<transport::StaticFile> read_static(const std::filesystem::path& root,
                                                 std::string_view path) {
  namespace fs = std::filesystem;
  if (path.empty() || path.front() != '/') return std::nullopt;
  const auto relative =
      path == "/" ? fs::path("index.html") : fs::path(path.substr(1)).lexically_normal();
  if (relative.empty() || *relative.begin() == "..") return std::nullopt;
  std::error_code ec;
  const auto base = fs::canonical(root, ec);
  auto file = fs::canonical(base / relative, ec);
  if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
  const auto inside = file.lexically_relative(base);
  if (inside.empty() || *inside.begin() == "..") return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return std::nullopt;
  return transport::StaticFile{content_type(file), std::move(body)};
}

}  // namespace conflux::hub
