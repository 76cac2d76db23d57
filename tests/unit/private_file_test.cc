// Files the daemon writes for itself and reads back (resolver/base/private_file.h):
// the atomic writer never writes through anything planted beside its target and
// leaves nothing behind when given up; the reader refuses what someone else could
// have written.
#include "resolver/base/private_file.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rsv {
namespace {

class PrivateFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "private_file_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string read(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  size_t files_in_dir() const {
    size_t n = 0;
    for (const auto &entry : std::filesystem::directory_iterator(dir_)) n += !entry.is_directory();
    return n;
  }
  std::string dir_;
};

TEST_F(PrivateFileTest, ACommittedWriteReplacesTheTargetWithTheModeAsked) {
  const std::string path = dir_ + "/state";
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.ok()) << writer.error();
  EXPECT_EQ(writer.temporary_path().rfind(path + ".tmp.", 0), 0u) << writer.temporary_path();
  ASSERT_TRUE(writer.write("part one, "));
  ASSERT_TRUE(writer.write("part two"));
  EXPECT_FALSE(std::filesystem::exists(path)) << "nothing at the target before the commit";
  ASSERT_TRUE(writer.commit(0640)) << writer.error();
  EXPECT_EQ(writer.bytes_written(), 18u);
  EXPECT_EQ(read(path), "part one, part two");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  EXPECT_EQ(files_in_dir(), 1u) << "the temporary file became the target";
}

TEST_F(PrivateFileTest, AWriteGivenUpLeavesTheOldFileAndNoTemporary) {
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "old", 0600);
  {
    AtomicFileWriter writer(path);
    ASSERT_TRUE(writer.write("new, never committed"));
  }
  EXPECT_EQ(read(path), "old");
  EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(PrivateFileTest, AFailedWriteSaysWhyAndLeavesTheOldFile) {
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "old", 0600);
  // The file size limit makes write() fail with EFBIG (for root too) once the
  // temporary file is 16 octets long.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto *previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool wrote = false;
  std::string error;
  {
    AtomicFileWriter writer(path);
    wrote = writer.write(std::string(64, 'x')) && writer.commit(0600);
    error = writer.error();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_FALSE(wrote);
  EXPECT_NE(error.find("cannot write " + path + ".tmp."), std::string::npos) << error;
  EXPECT_EQ(read(path), "old");
  EXPECT_EQ(files_in_dir(), 1u) << "the temporary file is removed";
  EXPECT_THROW(write_file_atomically(dir_ + "/missing/state", "x", 0600), std::runtime_error);
  AtomicFileWriter nowhere(dir_ + "/missing/state");
  EXPECT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.error().rfind("cannot create a temporary file beside " + dir_ + "/missing/state: ", 0),
            0u)
      << nowhere.error();
  EXPECT_FALSE(nowhere.write("x"));
  EXPECT_FALSE(nowhere.commit(0600));
}

TEST_F(PrivateFileTest, TheTemporaryFileIsNotInheritedByAnythingStarted) {
  const std::string path = dir_ + "/state";
  AtomicFileWriter writer(path);
  ASSERT_TRUE(writer.ok()) << writer.error();
  // The writer's descriptor, found by what it is open on.
  int found = -1;
  for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    if (std::filesystem::read_symlink(entry.path(), error) == writer.temporary_path())
      found = std::stoi(entry.path().filename().string());
  }
  ASSERT_GE(found, 0) << "no descriptor open on " << writer.temporary_path();
  const int flags = ::fcntl(found, F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_TRUE(flags & FD_CLOEXEC) << "opened with O_CLOEXEC";
}

TEST_F(PrivateFileTest, WhatACrashedWriteLeftIsRemovedAndNothingElse) {
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "old", 0600);
  // A write that never finished: the process ended between mkostemp and rename.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    AtomicFileWriter writer(path);
    _exit(writer.write("half of it") ? 0 : 1);  // no destructor runs: the file stays
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string crashed;
  for (const auto &entry : std::filesystem::directory_iterator(dir_))
    if (entry.path().filename().string().rfind("state.tmp.", 0) == 0) crashed = entry.path().string();
  ASSERT_FALSE(crashed.empty()) << "the crashed write left its temporary file";
  // Names that are not what the writer makes, or not a file: left alone.
  const std::vector<std::string> others = {"state.tmp.AbC12",   "state.tmp.AbC1234", "state.tmp.Ab-123",
                                           "state.tmp.",        "other.tmp.AbC123",  "state.AbC123",
                                           "xstate.tmp.AbC123", "state.tmp.AbC123.1"};
  for (const std::string &name : others) std::ofstream(dir_ + "/" + name) << "someone's";
  ASSERT_TRUE(std::filesystem::create_directory(dir_ + "/state.tmp.Dir123"));
  std::filesystem::create_symlink(path, dir_ + "/state.tmp.Lnk123");
  const std::string also_ours = dir_ + "/state.tmp.Zz9aA0";
  std::ofstream(also_ours) << "another unfinished write";

  const LeftoverTemporaries cleaned = remove_leftover_temporaries(path);
  EXPECT_TRUE(cleaned.error.empty()) << cleaned.error;
  std::vector<std::string> expected = {crashed, also_ours};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(cleaned.removed, expected);
  EXPECT_FALSE(std::filesystem::exists(crashed));
  EXPECT_FALSE(std::filesystem::exists(also_ours));
  EXPECT_EQ(read(path), "old") << "the file itself stays";
  for (const std::string &name : others) EXPECT_TRUE(std::filesystem::exists(dir_ + "/" + name)) << name;
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/state.tmp.Dir123"));
  EXPECT_TRUE(std::filesystem::is_symlink(dir_ + "/state.tmp.Lnk123"));
  EXPECT_EQ(read(path), "old") << "and nothing was followed to it";

  EXPECT_TRUE(remove_leftover_temporaries(path).removed.empty()) << "nothing more the second time";
  const LeftoverTemporaries no_directory = remove_leftover_temporaries(dir_ + "/missing/state");
  EXPECT_TRUE(no_directory.removed.empty());
  EXPECT_TRUE(no_directory.error.empty()) << "no directory yet, nothing ever written: " << no_directory.error;
}

TEST_F(PrivateFileTest, NothingPlantedBesideOrAtTheTargetIsWrittenThrough) {
  const std::string path = dir_ + "/state", victim = dir_ + "/victim";
  std::ofstream(victim) << "precious";
  std::filesystem::create_symlink(victim, path + ".tmp");  // a fixed temporary name
  std::filesystem::create_symlink(victim, path);           // the target itself
  write_file_atomically(path, "ours", 0600);
  EXPECT_EQ(read(victim), "precious");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(path)));
  EXPECT_EQ(read(path), "ours");
}

TEST_F(PrivateFileTest, OnlyAFileOfTheGivenOwnersNotWritableByOthersIsOpened) {
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "contents", 0600);
  const uid_t me = ::geteuid();
  PrivateFile ok = open_private_file(path, {me});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  ASSERT_TRUE(ok.file);
  char buffer[16];
  EXPECT_EQ(::read(ok.file.get(), buffer, sizeof buffer), 8) << "reads as any file";
  EXPECT_EQ(ok.info.st_size, 8);

  PrivateFile someone_else = open_private_file(path, {me + 1});
  EXPECT_FALSE(someone_else.file);
  EXPECT_EQ(someone_else.error, "owned by uid " + std::to_string(me) + ", not by uid " +
                                    std::to_string(me + 1) + ": someone else could have written it");
  EXPECT_NE(open_private_file(path, {}).error.find("not by nobody"), std::string::npos);

  ASSERT_EQ(::chmod(path.c_str(), 0660), 0);
  EXPECT_EQ(open_private_file(path, {me}).error,
            "writable by its group or others (mode 0660): anyone of them could have written it");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_TRUE(open_private_file(path, {me}).error.empty())
      << "readable by others is their business, not ours";

  PrivateFile missing = open_private_file(dir_ + "/none", {me});
  EXPECT_TRUE(missing.missing);
  EXPECT_FALSE(missing.error.empty());
  std::filesystem::create_symlink(path, dir_ + "/link");
  PrivateFile link = open_private_file(dir_ + "/link", {me});
  EXPECT_FALSE(link.missing);
  EXPECT_EQ(link.error, "a symbolic link, not the file itself");
  EXPECT_EQ(open_private_file(dir_, {me}).error, "not a regular file");
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(open_private_file(dir_ + "/fifo", {me}).error, "not a regular file")
      << "and no wait for a writer";
}

TEST(DaemonFileOwners, TheEffectiveUserRootAndTheDaemonsUser) {
  EXPECT_EQ(daemon_file_owners(""), (std::vector<uid_t>{::geteuid(), 0}));
  EXPECT_EQ(daemon_file_owners("root"), (std::vector<uid_t>{::geteuid(), 0, 0}));  // a user every system has
  EXPECT_EQ(daemon_file_owners("no-such-user-here"), (std::vector<uid_t>{::geteuid(), 0}));
}

TEST_F(PrivateFileTest, AFileIsReadWholeUpToTheLimit) {
  const uid_t me = ::geteuid();
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "0123456789", 0600);
  PrivateFileContents exact = read_private_file(path, {me}, 10);
  EXPECT_TRUE(exact.error.empty()) << exact.error;
  EXPECT_FALSE(exact.too_large);
  EXPECT_EQ(exact.contents, "0123456789");
  EXPECT_EQ(exact.size, 10u);
  PrivateFileContents over = read_private_file(path, {me}, 9);
  EXPECT_TRUE(over.too_large);
  EXPECT_TRUE(over.contents.empty());
  EXPECT_EQ(over.error, "10 octets, more than the 9 allowed");
  // Longer than any one read, and empty.
  const std::string big(300000, 'x');
  write_file_atomically(path, big, 0600);
  EXPECT_EQ(read_private_file(path, {me}, big.size()).contents, big);
  write_file_atomically(path, "", 0600);
  PrivateFileContents empty = read_private_file(path, {me}, 10);
  EXPECT_TRUE(empty.error.empty()) << empty.error;
  EXPECT_TRUE(empty.contents.empty());
}

TEST_F(PrivateFileTest, AFileLongerThanFstatSaidIsRefusedNotReadOn) {
  // /proc's files say they are empty and are not, as a file written in place while it
  // is read would: nothing beyond fstat's size (here none) is held, and it is refused.
  PrivateFileContents status = read_private_file("/proc/self/status", {::geteuid()}, 1 << 20);
  EXPECT_FALSE(status.too_large);
  EXPECT_TRUE(status.contents.empty());
  EXPECT_EQ(status.error, "changed while it was read (longer than its size)");
}

TEST_F(PrivateFileTest, ReadingRefusesWhatOpeningRefuses) {
  const uid_t me = ::geteuid();
  const std::string path = dir_ + "/state";
  write_file_atomically(path, "contents", 0600);
  PrivateFileContents missing = read_private_file(dir_ + "/none", {me}, 100);
  EXPECT_TRUE(missing.missing);
  EXPECT_FALSE(missing.error.empty());
  std::filesystem::create_symlink(path, dir_ + "/link");
  EXPECT_EQ(read_private_file(dir_ + "/link", {me}, 100).error, "a symbolic link, not the file itself");
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_private_file(dir_ + "/fifo", {me}, 100).error, "not a regular file");
  EXPECT_EQ(read_private_file(dir_, {me}, 100).error, "not a regular file");
  EXPECT_NE(read_private_file(path, {me + 1}, 100).error.find("owned by uid"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
  PrivateFileContents shared = read_private_file(path, {me}, 100);
  EXPECT_FALSE(shared.missing);
  EXPECT_TRUE(shared.contents.empty());
  EXPECT_NE(shared.error.find("writable by its group or others"), std::string::npos) << shared.error;
}

// One definition for every file the daemon keeps (the cache snapshot's copy said "/"
// for a bare name, where the others said ".").
TEST(DirectoryOf, NamesTheDirectoryOfAFile) {
  EXPECT_EQ(directory_of("/var/lib/resolverd/cache.db"), "/var/lib/resolverd");
  EXPECT_EQ(directory_of("/cache.db"), "/");
  EXPECT_EQ(directory_of("cache.db"), ".");
  EXPECT_EQ(directory_of("state/cache.db"), "state");
}

}  // namespace
}  // namespace rsv
