#pragma once
// --token-file, for conflux-node and conflux-hub: the cluster's token is the
// file's first line, at least 16 characters without blanks.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "flag_reader.hpp"

namespace conflux::cli {

/// The token in `path`; throws FlagError naming `flag` and the file.
inline std::string read_token_file(const std::filesystem::path& path,
                                   const std::string& flag = "--token-file") {
  std::ifstream file(path);
  std::string token;
  if (!file || !std::getline(file, token)) throw FlagError(flag + ": cannot read " + path.string());
  // Characters that pass unchanged in a URL's query (the dashboard's
  // ?token=) and in an HTTP header: base64's and a few more.
  const auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-._~+/=").find(c) != std::string_view::npos;
  };
  if (token.size() < 16 || !std::all_of(token.begin(), token.end(), allowed)) {
    throw FlagError(flag + ": the token in " + path.string() +
                    " must be one line of at least 16 characters, each a letter, a digit or one "
                    "of -._~+/=");
  }
  return token;
}

}  // namespace conflux::cli
