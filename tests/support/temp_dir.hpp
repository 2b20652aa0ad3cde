#pragma once
// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes.

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace conflux::test {

class TempDir {
 public:
  /// `prefix` names the directory after its user, for whoever finds it left
  /// behind by a killed test.
  explicit TempDir(const std::string& prefix = "conflux-test") {
    std::random_device random;
    const auto suffix =
        std::to_string(::getpid()) + "-" + std::to_string(random()) + std::to_string(random());
    path_ = std::filesystem::temp_directory_path() / (prefix + "-" + suffix);
    std::filesystem::create_directories(path_);
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
