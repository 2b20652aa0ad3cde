#pragma once
// A fresh directory under the system's temporary directory (mkdtemp: a name
// nobody else holds), removed with everything in it when the object goes.
// Shared by the tests and the benchmarks (bench/ includes it too).

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace conflux::test {

class TempDir {
 public:
  /// `prefix` names the directory after its user, for whoever finds it left
  /// behind by a killed test.
  explicit TempDir(const std::string& prefix = "conflux-test") {
    auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error("cannot create a directory like " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace conflux::test
