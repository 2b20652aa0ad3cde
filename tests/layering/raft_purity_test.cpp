// The Raft core stays pure: no I/O, no clocks, no threads, no global
// randomness, nothing from Boost.Asio or Beast; and nothing its WebAssembly
// build (emscripten 3.1.6, libc++ 13) lacks. This test reads every file
// under raft/ and fails on the first forbidden construct it finds. The node
// engine (lib/src/engine/) keeps nearly the same rules.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Rule {
  const char* pattern;
  const char* why;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> all = {
      {R"(#\s*include\s*[<"]boost/(asio|beast))", "Boost.Asio/Beast belong to transport/"},
      {R"(#\s*include\s*<(sys/socket|netinet/|arpa/|netdb|sys/epoll|poll\.h|unistd))",
       "sockets and system I/O belong to transport/"},
      // <atomic> is allowed: an atomic owns no thread, and Payload's
      // reference count must be one because a driver may release payloads
      // on its storage thread. The core itself never waits or synchronizes.
      {R"(#\s*include\s*<(thread|mutex|shared_mutex|condition_variable|future|semaphore|stop_token)>)",
       "the core owns no thread"},
      {R"(#\s*include\s*<(chrono|ctime|time\.h|sys/time\.h)>)", "the core reads no clock"},
      {R"(#\s*include\s*<(random|fstream|iostream|cstdio|stdio\.h)>)",
       "no global randomness or I/O"},
      {R"(\b(rand|srand|time|clock_gettime|gettimeofday)\s*\()", "global randomness or a clock"},
      {R"(\b(random_device|mt19937|default_random_engine)\b)",
       "randomness not drawn from Config::seed"},
      {R"(std::chrono|std::this_thread|uniform_int_distribution)",
       "clocks, threads or libstdc++-specific draws"},
      {R"(#\s*include\s*<(coroutine|ranges|format|source_location)>)",
       "missing from the WebAssembly build's libc++ 13"},
      {R"(std::ranges::|std::views::|std::bit_cast|std::format\b)",
       "missing from the WebAssembly build's libc++ 13"},
  };
  return all;
}

/// The node engine (lib/src/engine/) may name time (std::chrono types: its
/// events carry it) but never read a clock, and otherwise keeps the core's
/// rules: it runs in a browser tab too, under a driver that is not Asio.
const std::vector<Rule>& engine_rules() {
  static const std::vector<Rule> all = {
      {R"(#\s*include\s*[<"]boost/(asio|beast))", "Boost.Asio/Beast belong to the driver"},
      {R"(#\s*include\s*<(sys/socket|netinet/|arpa/|netdb|sys/epoll|poll\.h|unistd))",
       "sockets and system I/O belong to the driver"},
      {R"(#\s*include\s*<(thread|mutex|shared_mutex|condition_variable|future|semaphore|stop_token)>)",
       "the engine owns no thread"},
      {R"(\b(steady_clock|system_clock|high_resolution_clock)::now\s*\()",
       "the engine reads no clock: EngineHooks::now"},
      {R"(#\s*include\s*<(random|fstream|iostream|cstdio|stdio\.h)>)",
       "no global randomness or I/O"},
      {R"(\b(rand|srand|time|clock_gettime|gettimeofday)\s*\()", "global randomness or a clock"},
      {R"(\b(random_device|mt19937|default_random_engine)\b)", "global randomness"},
      {R"(#\s*include\s*<(coroutine|ranges|format|source_location)>)",
       "missing from the WebAssembly build's libc++ 13"},
      {R"(std::ranges::|std::views::|std::bit_cast|std::format\b)",
       "missing from the WebAssembly build's libc++ 13"},
  };
  return all;
}

/// The first rule `text` breaks, as "why: matched text"; empty when pure.
std::string first_violation(const std::string& text, const std::vector<Rule>& checked = rules()) {
  for (const auto& rule : checked) {
    std::smatch match;
    if (std::regex_search(text, match, std::regex(rule.pattern))) {
      return std::string(rule.why) + ": `" + match.str() + "`";
    }
  }
  return {};
}

/// Comments may name what is forbidden; only code counts.
std::string strip_comments(const std::string& text) {
  static const std::regex comments(R"(//[^\n]*|/\*[\s\S]*?\*/)");
  return std::regex_replace(text, comments, "");
}

std::string read_code(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return strip_comments(buffer.str());
}

}  // namespace

TEST_CASE("the purity rules catch what they forbid") {
  CHECK_FALSE(first_violation("#include <boost/asio.hpp>").empty());
  CHECK_FALSE(first_violation("#include <thread>").empty());
  CHECK_FALSE(first_violation("#include <chrono>").empty());
  CHECK_FALSE(first_violation("int x = rand();").empty());
  CHECK_FALSE(first_violation("std::random_device rd;").empty());
  CHECK_FALSE(first_violation("#include <sys/socket.h>").empty());
  CHECK_FALSE(first_violation("auto v = std::ranges::sort(x);").empty());
  CHECK(first_violation("#include <vector>\nint operand(int x);").empty());
  CHECK(first_violation(strip_comments("int a;  // rand() in a comment\n/* <thread> */")).empty());
  CHECK_FALSE(first_violation(strip_comments("// a comment\nint b = rand();")).empty());
}

TEST_CASE(
    "nothing under raft/ does I/O, reads a clock, starts a thread or draws global randomness") {
  const std::filesystem::path root = CONFLUX_SOURCE_DIR "/raft";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const auto extension = entry.path().extension();
    if (extension != ".hpp" && extension != ".cpp" && extension != ".h") continue;
    ++files;
    CAPTURE(entry.path().string());
    CHECK(first_violation(read_code(entry.path())) == "");
  }
  CHECK(files >= 10);
}

TEST_CASE("nothing in the node engine uses Asio, does I/O, starts a thread or reads a clock") {
  CHECK_FALSE(
      first_violation("auto t = Clock::now() + std::chrono::steady_clock::now();", engine_rules())
          .empty());
  CHECK(first_violation("auto t = hooks_.now(); std::chrono::milliseconds d{1};", engine_rules())
            .empty());
  const std::filesystem::path root = CONFLUX_SOURCE_DIR "/lib/src/engine";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    CAPTURE(entry.path().string());
    CHECK(first_violation(read_code(entry.path()), engine_rules()) == "");
  }
  CHECK(files >= 8);
}

namespace {

/// The project headers (#include <conflux/...>) that `text` includes, by
/// their first path element: "raft", "storage", "transport", or "api" for
/// lib's own (conflux/node.hpp, conflux/options.hpp, ...).
std::set<std::string> layers_included(const std::string& text) {
  static const std::regex include(R"(#\s*include\s*<conflux/([a-z_]+)(/|\.hpp))");
  std::set<std::string> layers;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
       it != std::sregex_iterator(); ++it) {
    layers.insert((*it)[2] == "/" ? (*it)[1].str() : "api");
  }
  return layers;
}

}  // namespace

TEST_CASE("layers point one way: raft <- {storage, transport} <- lib <- apps") {
  const std::map<std::string, std::set<std::string>> allowed = {
      {"raft", {"raft"}},
      {"storage", {"raft", "storage"}},
      {"transport", {"raft", "transport"}},
      {"lib", {"raft", "storage", "transport", "api"}},
  };
  CHECK(layers_included("#include <conflux/raft/raft.hpp>\n#include <conflux/node.hpp>") ==
        std::set<std::string>{"raft", "api"});
  for (const auto& [layer, may_include] : allowed) {
    std::size_t files = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(CONFLUX_SOURCE_DIR "/" + layer)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      CAPTURE(entry.path().string());
      for (const auto& included : layers_included(read_code(entry.path()))) {
        CAPTURE(included);
        CHECK(may_include.count(included) == 1);
      }
    }
    CHECK(files >= 4);
  }
}
