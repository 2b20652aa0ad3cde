#pragma once
// Completion handler for the bench's coroutines: expected I/O outcomes are
// values inside them, so an exception reaching here is a bug worth seeing.

#include <conflux/transport/awaitable.hpp>
#include <cstdio>
#include <string>
#include <string_view>

namespace conflux::bench {

inline const auto log_unexpected = transport::log_escaped(
    "conflux-bench: a coroutine",
    [](std::string_view line) { std::fprintf(stderr, "%s\n", std::string(line).c_str()); });

}  // namespace conflux::bench
