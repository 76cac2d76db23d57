// Files the daemon writes for itself and reads back at its next start (the RFC 5011
// trust anchor state, the cache snapshot): written so that nobody can redirect the
// write and a crash leaves the old contents or the new, never a mix; read only when
// nobody but the daemon (or root) could have written them.
//
// Writing, AtomicFileWriter: the contents go to a temporary file beside the target,
// TARGET.tmp.XXXXXX made by mkostemp (a fresh random name opened with O_CREAT | O_EXCL
// | O_CLOEXEC: a symlink or file planted beside the target is never opened, so a
// daemon running as root cannot be made to write through one, and nothing it starts
// inherits the file); commit() sets the mode, fsyncs, renames it over the target
// (rename replaces a symlink at the target, it does not follow it) and fsyncs the
// directory so that the rename is durable. Given up (destroyed without commit), the
// temporary file is removed; a crash leaves it, and remove_leftover_temporaries()
// removes it at the next start. Errors are values: what failed, on which file, why.
//
// Reading, open_private_file: the file is opened without following a symlink
// (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK), and is refused unless it
// is a regular file, not writable by its group or others, and owned by one of the
// owners given (the daemon's effective user, root, and the user it runs as once its
// privileges are dropped). read_private_file reads such a file whole: refused unread
// when fstat says it is larger than the caller's limit, and refused when what is read
// differs from what fstat said (someone was writing it in place; our own writes
// replace it by rename), so that memory never exceeds the limit. Both readers of these
// files, the snapshot and the RFC 5011 state, go through it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace rsv {

// An open file descriptor, closed when this goes.
class FileDescriptor {
public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor &&other) noexcept : fd_(other.release()) {}
  FileDescriptor &operator=(FileDescriptor &&other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now; the close's own error (errno), or 0.
  int reset();

private:
  int fd_ = -1;
};

class AtomicFileWriter {
public:
  // The temporary file is the target's name, this, and mkostemp's six characters.
  static constexpr const char *kTemporarySuffix = ".tmp.";

  // Creates the temporary file beside `path`; see ok() and error().
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // removes the temporary file unless committed
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  // Appends to the temporary file; false (and error()) when it cannot.
  bool write(std::string_view piece);
  // mode, fsync, rename over the target, fsync of the directory; false (and error())
  // when any of it fails, and then the target is as it was.
  bool commit(mode_t mode);

  bool ok() const { return error_.empty(); }
  // "cannot create a temporary file beside /var/lib/resolverd/cache.db: Permission denied"
  const std::string &error() const { return error_; }
  const std::string &temporary_path() const { return temporary_; }
  uint64_t bytes_written() const { return bytes_; }

private:
  bool fail(const std::string &what, int error);

  std::string path_, temporary_, error_;
  FileDescriptor file_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

// Replaces `path` with `contents` through an AtomicFileWriter. Throws
// std::runtime_error with its error text.
void write_file_atomically(const std::string &path, std::string_view contents, mode_t mode);

// The directory `path` names a file in: "." for a bare name, "/" for a file at the root.
std::string directory_of(const std::string &path);

struct LeftoverTemporaries {
  std::vector<std::string> removed;  // their paths, sorted
  std::string error;                 // the first thing that failed, or empty
};

// At start, before anything writes `path`: removes the temporary files a write of it
// that never finished (a crash, a power cut) left beside it. Only regular files named
// as AtomicFileWriter names them (`path`.tmp. and six letters or digits) are removed;
// nothing else in the directory is touched.
LeftoverTemporaries remove_leftover_temporaries(const std::string &path);

struct PrivateFile {
  FileDescriptor file;
  struct stat info {};
  bool missing = false;  // there is no such file (ENOENT)
  std::string error;     // why it was not opened or is refused; empty when it is usable
};

// Who may own a file the daemon keeps between runs (the RFC 5011 state, the cache
// snapshot): the effective user (who reads it at start, as a rule root), root, and
// `username` (the user the daemon writes it as once privileges are dropped) when it
// names a user.
std::vector<uid_t> daemon_file_owners(const std::string &username);

// Opens `path` for reading when it is a file only one of `owners` could have written
// (see the header): else `error` says why ("a symbolic link", "not a regular file",
// "writable by its group or others (mode 0620)", "owned by uid 4242, not by ...").
PrivateFile open_private_file(const std::string &path, const std::vector<uid_t> &owners);

struct PrivateFileContents {
  std::string contents;
  bool missing = false;    // there is no such file (ENOENT)
  bool too_large = false;  // fstat says it holds more than the limit: `size` octets
  uint64_t size = 0;       // what was read, or fstat's size when too_large
  std::string error;       // why it was not read; empty when `contents` is the file
};

// open_private_file, then every octet to the end of the file, at most `max_bytes`:
// more is an error ("3000 octets, more than the 2048 allowed"), as are a failed read
// and a file whose length is not what fstat said ("changed while it was read ...").
PrivateFileContents read_private_file(const std::string &path, const std::vector<uid_t> &owners,
                                      uint64_t max_bytes);

}  // namespace rsv
