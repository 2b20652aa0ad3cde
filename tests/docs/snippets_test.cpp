// The C++ in README.md and docs/api.md is compiled: every ```cpp block that
// starts with "// apps/examples/<file>" (```cmake: "# apps/examples/<file>")
// must appear verbatim in that file, which CI builds and runs. A block
// edited in the docs alone fails here.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::filesystem::path root = CONFLUX_SOURCE_DIR;

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Snippet {
  std::string source;  // the example file it claims to come from
  std::string code;    // the rest of the block
};

/// The blocks of `language` whose first line is `comment` followed by
/// "apps/examples/<file>".
std::vector<Snippet> snippets(const std::string& markdown, const std::string& language = "cpp",
                              const std::string& comment = "// ") {
  std::vector<Snippet> out;
  const std::string open = "```" + language + "\n" + comment + "apps/examples/";
  for (auto at = markdown.find(open); at != std::string::npos; at = markdown.find(open, at)) {
    const auto name_start = at + 4 + language.size() + comment.size();  // past "```cpp\n// "
    const auto name_end = markdown.find('\n', name_start);
    const auto close = markdown.find("```\n", name_end);
    out.push_back({markdown.substr(name_start, name_end - name_start),
                   markdown.substr(name_end + 1, close - name_end - 1)});
    at = close;
  }
  return out;
}

/// Each snippet appears verbatim in the file it names.
void check_verbatim(const std::vector<Snippet>& found) {
  CHECK(found.size() >= 1);
  for (const auto& snippet : found) {
    CAPTURE(snippet.source);
    const auto source = read(root / snippet.source);
    REQUIRE_FALSE(source.empty());
    CHECK(source.find(snippet.code) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("the C++ shown in README.md and docs/api.md is taken verbatim from compiled examples") {
  for (const char* doc : {"README.md", "docs/api.md"}) {
    CAPTURE(doc);
    check_verbatim(snippets(read(root / doc)));
  }
}

TEST_CASE("the CMake shown in docs/api.md is the consumer example's, which tests/package builds") {
  check_verbatim(snippets(read(root / "docs/api.md"), "cmake", "# "));
}
