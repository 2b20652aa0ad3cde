#pragma once
// conflux-hub --static DIR: the files a hub serves over plain HTTP beside
// the WebSocket relay (the browser peers' page, module and .wasm).

#include <conflux/transport/ws_hub.hpp>
#include <filesystem>
#include <optional>
#include <string_view>

namespace conflux::hub {

/// The regular file under `root` that the URL path `path` names ("/" is
/// /index.html), with its content type by extension; nullopt when there is
/// none, or when the path tries to leave `root` ("..", a symbolic link out).
std::optional<transport::StaticFile> read_static(const std::filesystem::path& root,
                                                 std::string_view path);

}  // namespace conflux::hub
