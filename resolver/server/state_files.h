// Files the daemon keeps between runs (the RFC 5011 trust anchor state, and any other
// state under /var/lib/resolverd): where they live and how they are written.
//
// At start-up, while still root, prepare_state_directory() makes sure the directory
// of each state file exists and belongs to the user the daemon is about to become
// (`username`), so that after dropping privileges it can replace its files there.
// write_file_atomically() (resolver/base/private_file.h, shared with the cache
// snapshot) replaces a file so that a crash or power cut leaves either the old or the
// new contents, never a mix: a temporary file beside it made by mkstemp, written,
// fsync'ed, renamed over the old one, and the directory fsync'ed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "resolver/base/private_file.h"

namespace rsv {

struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Creates the directory of `file_path` (and missing parents, mode 0755) and, given
// an owner, hands the directory and the file (if present) to it. Shared system
// directories (/, /etc, /var, /var/lib, /run, /tmp, ...) are never given away: a
// state file is meant to have a directory of its own. Throws std::runtime_error.
void prepare_state_directory(const std::string &file_path, const std::optional<FileOwner> &owner);

// Reads a whole file of at most `max_bytes`; nullopt when it does not exist. Throws
// std::runtime_error when it exists but cannot be read, or is larger.
std::optional<std::string> read_small_file(const std::string &path, size_t max_bytes);

// The path a file has after chroot(`root`): `path` without the `root` prefix when it
// lies inside it, else unchanged (and then unreachable after the chroot).
std::string path_inside_chroot(const std::string &path, const std::string &root);

}  // namespace rsv
