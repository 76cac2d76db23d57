#include "resolver/base/private_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace rsv {

namespace {

std::string owners_text(const std::vector<uid_t> &owners) {
  std::string text;
  for (uid_t uid : owners) text += (text.empty() ? "uid " : " or uid ") + std::to_string(uid);
  return text.empty() ? "nobody" : text;
}

std::string base_name_of(const std::string &path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The name mkostemp gives a temporary file of `base`: `base`.tmp. and six letters or
// digits in place of its XXXXXX.
bool is_temporary_name_of(std::string_view name, std::string_view base) {
  const std::string_view suffix = AtomicFileWriter::kTemporarySuffix;
  if (name.size() != base.size() + suffix.size() + 6 || name.substr(0, base.size()) != base ||
      name.substr(base.size(), suffix.size()) != suffix)
    return false;
  for (char c : name.substr(base.size() + suffix.size()))
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

PrivateFileContents unread(PrivateFileContents out, std::string why) {
  out.contents.clear();
  out.error = std::move(why);
  return out;
}

}  // namespace

std::string directory_of(const std::string &path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int FileDescriptor::reset() {
  if (fd_ < 0) return 0;
  const int result = ::close(fd_) == 0 ? 0 : errno;
  fd_ = -1;
  return result;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  // mkostemp opens O_RDWR | O_CREAT | O_EXCL, mode 0600, on a name nobody could guess,
  // and O_CLOEXEC at once: nothing the daemon starts meanwhile inherits it.
  temporary_ = path_ + kTemporarySuffix + "XXXXXX";
  const int fd = ::mkostemp(temporary_.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    temporary_.clear();
    error_ = "cannot create a temporary file beside " + path_ + ": " + std::strerror(error);
    return;
  }
  file_ = FileDescriptor(fd);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_ || temporary_.empty()) return;
  file_.reset();
  ::unlink(temporary_.c_str());
}

bool AtomicFileWriter::fail(const std::string &what, int error) {
  if (error_.empty()) error_ = what + ": " + std::strerror(error);
  return false;
}

bool AtomicFileWriter::write(std::string_view piece) {
  if (!ok()) return false;
  while (!piece.empty()) {
    const ssize_t n = ::write(file_.get(), piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write " + temporary_, n < 0 ? errno : EIO);
    piece.remove_prefix(static_cast<size_t>(n));
    bytes_ += static_cast<uint64_t>(n);
  }
  return true;
}

bool AtomicFileWriter::commit(mode_t mode) {
  if (!ok()) return false;
  if (::fchmod(file_.get(), mode) != 0) return fail("cannot set the mode of " + temporary_, errno);
  if (::fsync(file_.get()) != 0) return fail("cannot sync " + temporary_, errno);
  if (const int error = file_.reset(); error != 0) return fail("cannot write " + temporary_, error);
  if (::rename(temporary_.c_str(), path_.c_str()) != 0)
    return fail("cannot rename " + temporary_ + " to " + path_, errno);
  committed_ = true;
  // The rename itself is durable once the directory is synced.
  FileDescriptor directory(::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory) ::fsync(directory.get());
  return true;
}

void write_file_atomically(const std::string &path, std::string_view contents, mode_t mode) {
  AtomicFileWriter writer(path);
  if (!writer.write(contents) || !writer.commit(mode)) throw std::runtime_error(writer.error());
}

std::vector<uid_t> daemon_file_owners(const std::string &username) {
  std::vector<uid_t> owners = {::geteuid(), 0};
  if (!username.empty())
    if (const passwd *user = ::getpwnam(username.c_str())) owners.push_back(user->pw_uid);
  return owners;
}

PrivateFile open_private_file(const std::string &path, const std::vector<uid_t> &owners) {
  PrivateFile out;
  out.file = FileDescriptor(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!out.file) {
    const int error = errno;
    out.missing = error == ENOENT;
    out.error = error == ELOOP ? "a symbolic link, not the file itself"
                               : std::string("cannot open: ") + std::strerror(error);
    return out;
  }
  if (::fstat(out.file.get(), &out.info) != 0) {
    out.error = std::string("cannot stat: ") + std::strerror(errno);
  } else if (!S_ISREG(out.info.st_mode)) {
    out.error = "not a regular file";
  } else if (out.info.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(out.info.st_mode & 07777));
    out.error = std::string("writable by its group or others (mode ") + mode +
                "): anyone of them could have written it";
  } else {
    bool known = false;
    for (uid_t uid : owners) known = known || out.info.st_uid == uid;
    if (!known)
      out.error = "owned by uid " + std::to_string(out.info.st_uid) + ", not by " + owners_text(owners) +
                  ": someone else could have written it";
  }
  if (!out.error.empty()) {
    out.file.reset();
    return out;
  }
  // Reads block from here on, as for any file.
  ::fcntl(out.file.get(), F_SETFL, ::fcntl(out.file.get(), F_GETFL) & ~O_NONBLOCK);
  return out;
}

PrivateFileContents read_private_file(const std::string &path, const std::vector<uid_t> &owners,
                                      uint64_t max_bytes) {
  PrivateFileContents out;
  PrivateFile opened = open_private_file(path, owners);
  if (!opened.error.empty()) {
    out.missing = opened.missing;
    out.error = std::move(opened.error);
    return out;
  }
  // The limit is checked before anything is read, and nothing beyond what fstat said
  // is ever held: a file that differs from it was being written meanwhile (our own
  // writes replace the file whole, by rename), so it is refused, not read in part.
  const auto stated = static_cast<uint64_t>(std::max<off_t>(opened.info.st_size, 0));
  if (stated > max_bytes || stated >= std::string().max_size()) {
    out.too_large = true;
    out.size = stated;
    out.error = std::to_string(stated) + " octets, more than the " + std::to_string(max_bytes) + " allowed";
    return out;
  }
  out.contents.resize(static_cast<size_t>(stated));
  size_t done = 0;
  for (;;) {
    // Once fstat's size is in, one octet more: there should be none.
    char probe = 0;
    char *into = done < out.contents.size() ? out.contents.data() + done : &probe;
    const size_t room = done < out.contents.size() ? out.contents.size() - done : 1;
    const ssize_t n = ::read(opened.file.get(), into, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      return unread(std::move(out), std::string("cannot read: ") + std::strerror(error));
    }
    if (n == 0) break;
    if (into == &probe) return unread(std::move(out), "changed while it was read (longer than its size)");
    done += static_cast<size_t>(n);
  }
  if (done != out.contents.size())
    return unread(std::move(out), "changed while it was read (shorter than its size)");
  out.size = done;
  return out;
}

LeftoverTemporaries remove_leftover_temporaries(const std::string &path) {
  LeftoverTemporaries out;
  const std::string directory = directory_of(path), base = base_name_of(path);
  std::unique_ptr<DIR, int (*)(DIR *)> listing(::opendir(directory.c_str()), ::closedir);
  if (!listing) {
    // No directory yet (the first start): nothing was ever written there.
    if (errno != ENOENT) out.error = "cannot list " + directory + ": " + std::strerror(errno);
    return out;
  }
  const int directory_fd = ::dirfd(listing.get());
  while (const dirent *entry = ::readdir(listing.get())) {
    if (!is_temporary_name_of(entry->d_name, base)) continue;
    // A regular file only, as the writer makes: anything else of that name is not
    // its leftover (and a symlink's target is never touched either way).
    struct stat info {};
    if (::fstatat(directory_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(info.st_mode))
      continue;
    const std::string leftover = directory + "/" + entry->d_name;
    if (::unlinkat(directory_fd, entry->d_name, 0) != 0) {
      if (out.error.empty()) out.error = "cannot remove " + leftover + ": " + std::strerror(errno);
      continue;
    }
    out.removed.push_back(leftover);
  }
  std::sort(out.removed.begin(), out.removed.end());
  return out;
}

}  // namespace rsv
