#pragma once
// --token-file, for conflux-node and conflux-hub: the cluster's token is the
// file's first line, at least 16 characters without blanks.

#include <filesystem>
#include <fstream>
#include <string>

#include "flag_reader.hpp"

namespace conflux::cli {

/// The token in `path`; throws FlagError naming `flag` and the file.
inline std::string read_token_file(const std::filesystem::path& path,
                                   const std::string& flag = "--token-file") {
  std::ifstream file(path);
  std::string token;
  if (!file || !std::getline(file, token)) throw FlagError(flag + ": cannot read " + path.string());
  if (token.size() < 16 || token.find_first_of(" \t\r") != std::string::npos) {
    throw FlagError(flag + ": the token in " + path.string() +
                    " must be one line of at least 16 characters, without blanks");
  }
  return token;
}

}  // namespace conflux::cli
