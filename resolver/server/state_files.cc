#include "resolver/server/state_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "resolver/base/log.h"

namespace rsv {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Directories that other programs share: a state file's directory is given to the
// daemon's user, and these must never be.
bool shared_system_directory(const std::string &directory) {
  static constexpr std::array<std::string_view, 14> kShared = {
      "/",    ".",        "/etc", "/var",       "/var/lib", "/var/cache", "/run",
      "/tmp", "/var/tmp", "/usr", "/usr/local", "/home",    "/root",      "/srv"};
  std::string trimmed = directory;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  for (std::string_view shared : kShared)
    if (trimmed == shared) return true;
  return false;
}

void make_directories(const std::string &directory) {
  if (directory.empty() || directory == "/" || directory == ".") return;
  struct stat info {};
  if (stat(directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) throw std::runtime_error(directory + " exists and is not a directory");
    return;
  }
  make_directories(directory_of(directory));
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create " + directory + ": " + errno_text());
}

}  // namespace

void prepare_state_directory(const std::string &file_path, const std::optional<FileOwner> &owner) {
  const std::string directory = directory_of(file_path);
  make_directories(directory);
  if (!owner) return;
  if (shared_system_directory(directory)) {
    RSV_LOG(warning, "%s is in %s, which is not handed to the daemon's user: it may not be able to write it",
            file_path.c_str(), directory.c_str());
    return;
  }
  struct stat info {};
  if (stat(directory.c_str(), &info) != 0) throw std::runtime_error(directory + ": " + errno_text());
  if (info.st_uid != owner->uid || info.st_gid != owner->gid) {
    if (chown(directory.c_str(), owner->uid, owner->gid) != 0)
      throw std::runtime_error("cannot give " + directory + " to the daemon's user: " + errno_text());
    RSV_LOG(info, "%s now belongs to the daemon's user (uid %u)", directory.c_str(),
            static_cast<unsigned>(owner->uid));
  }
  if (lstat(file_path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
      (info.st_uid != owner->uid || info.st_gid != owner->gid) &&
      chown(file_path.c_str(), owner->uid, owner->gid) != 0)
    throw std::runtime_error("cannot give " + file_path + " to the daemon's user: " + errno_text());
}

void remove_leftover_writes(const std::string &path) {
  const LeftoverTemporaries leftovers = remove_leftover_temporaries(path);
  for (const std::string &removed : leftovers.removed)
    RSV_LOG(info, "removed %s, left by a write of %s that did not finish", removed.c_str(), path.c_str());
  if (!leftovers.error.empty())
    RSV_LOG(warning, "%s: unfinished writes not cleaned up: %s", path.c_str(), leftovers.error.c_str());
}

std::string path_inside_chroot(const std::string &path, const std::string &root) {
  if (root.empty()) return path;
  std::string prefix = root;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix == "/") return path;
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
      path[prefix.size()] == '/')
    return path.substr(prefix.size());
  return path;
}

}  // namespace rsv
