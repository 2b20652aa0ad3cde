// conflux-hub --static: what read_static serves, and what it refuses (a path
// out of the directory, by ".." or by a symbolic link; a directory; none).
#include "static_files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

using conflux::hub::read_static;
namespace fs = std::filesystem;

TEST_CASE("static files: served by extension, and never from outside the directory") {
  conflux::test::TempDir dir("conflux-static");
  const auto root = dir.path() / "site";
  fs::create_directories(root / "sub");
  std::ofstream(root / "index.html") << "<p>hi</p>";
  std::ofstream(root / "sub" / "engine.wasm") << "wasm";
  std::ofstream(dir.path() / "secret.txt") << "secret";
  fs::create_symlink(dir.path() / "secret.txt", root / "link.txt");

  const auto index = read_static(root, "/");
  REQUIRE(index);
  CHECK(index->body == "<p>hi</p>");
  CHECK(index->content_type == "text/html; charset=utf-8");
  const auto wasm = read_static(root, "/sub/engine.wasm");
  REQUIRE(wasm);
  CHECK(wasm->content_type == "application/wasm");
  CHECK(read_static(root, "/sub/../index.html"));  // stays inside: allowed

  CHECK_FALSE(read_static(root, "/../secret.txt"));
  CHECK_FALSE(read_static(root, "/sub/../../secret.txt"));
  CHECK_FALSE(read_static(root, "/link.txt"));  // a symbolic link out
  CHECK_FALSE(read_static(root, "/sub"));       // a directory
  CHECK_FALSE(read_static(root, "/missing.js"));
  CHECK_FALSE(read_static(root, "relative.html"));
}
