// Files the daemon keeps between runs (the RFC 5011 trust anchor state, and any other
// state under /var/lib/resolverd): where they live and how they are written.
//
// At start-up, while still root, prepare_state_directory() makes sure the directory
// of each state file exists and belongs to the user the daemon is about to become
// (`username`), so that after dropping privileges it can replace its files there.
// write_file_atomically() (resolver/base/private_file.h, shared with the cache
// snapshot) replaces a file so that a crash or power cut leaves either the old or the
// new contents, never a mix: a temporary file beside it made by mkostemp, written,
// fsync'ed, renamed over the old one, and the directory fsync'ed; what a crash left of
// one is removed at the next start (remove_leftover_writes). read_private_file()
// (the same header) reads one back only when nobody but daemon_file_owners() could
// have written it: not through a symlink, not a FIFO, not writable by others.
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

// At start, before the daemon writes `path`: remove_leftover_temporaries(path), with
// every file removed, and any failure, in the log.
void remove_leftover_writes(const std::string &path);

// The path a file has after chroot(`root`): `path` without the `root` prefix when it
// lies inside it, else unchanged (and then unreachable after the chroot).
std::string path_inside_chroot(const std::string &path, const std::string &root);

}  // namespace rsv
