// cmbcp's resume journal is saved durably: a round trip through Save and
// Load, no temporary file left behind, and failures reported with the path
// rather than swallowed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "journal.h"

namespace {

namespace fs = std::filesystem;

// A fresh directory for CMB_STATE_DIR, removed afterwards.
class JournalTest : public testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/cmb-journal-test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    base_ = dir;
  }
  void TearDown() override {
    ::chmod(base_.c_str(), 0700);
    fs::remove_all(base_);
    ::unsetenv("CMB_STATE_DIR");
  }
  cmbcp::Journal For(const std::string& state_dir) {
    ::setenv("CMB_STATE_DIR", state_dir.c_str(), 1);
    cmb::CopyPlan plan;
    plan.src.serial = "SRC1";
    plan.dst.serial = "DST2";
    plan.src.ns.nsid = plan.dst.ns.nsid = 1;
    plan.src.ns.lba_size = plan.dst.ns.lba_size = 512;
    plan.bytes = 1 << 20;
    return cmbcp::Journal::For(plan);
  }
  static std::vector<std::string> Files(const std::string& dir) {
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    return names;
  }
  std::string base_;
};

TEST_F(JournalTest, SaveThenLoadRoundTripsAndLeavesNoTemporaryFile) {
  std::string dir = base_ + "/state/cmbcp";  // created by Save
  cmbcp::Journal j = For(dir);
  EXPECT_TRUE(absl::IsNotFound(j.Load().status()));
  ASSERT_TRUE(j.Save(4096).ok());
  absl::StatusOr<uint64_t> back = j.Load();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 4096u);
  ASSERT_TRUE(j.Save(8192).ok());  // replaces the earlier one
  back = j.Load();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 8192u);
  EXPECT_EQ(Files(dir), std::vector<std::string>{fs::path(j.path()).filename()});
  struct stat st {};
  ASSERT_EQ(::stat(j.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  j.Remove();
  EXPECT_TRUE(Files(dir).empty());
}

TEST_F(JournalTest, StateDirThatIsAFileIsAnErrorNamingIt) {
  std::string file = base_ + "/not-a-dir";
  std::ofstream(file) << "x";
  cmbcp::Journal j = For(file);
  absl::Status s = j.Save(4096);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find(file + " is not a directory"), std::string::npos) << s;
  // Under it, too: mkdir fails on the file.
  s = For(file + "/sub").Save(4096);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file), std::string::npos) << s;
}

TEST_F(JournalTest, RenameFailureIsReportedAndTheTemporaryFileRemoved) {
  cmbcp::Journal j = For(base_);
  fs::create_directory(j.path());  // something that cannot be renamed over
  fs::create_directory(j.path() + "/x");
  absl::Status s = j.Save(4096);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("rename "), std::string::npos) << s;
  EXPECT_NE(s.message().find(j.path()), std::string::npos) << s;
  EXPECT_EQ(Files(base_), std::vector<std::string>{fs::path(j.path()).filename()});
}

// Root writes into a mode 0500 directory anyway: as root, the Save runs in
// a child that has dropped to nobody, so the test means the same everywhere.
TEST_F(JournalTest, UnwritableStateDirIsAnErrorNamingTheFile) {
  cmbcp::Journal j = For(base_);
  ASSERT_EQ(::chmod(base_.c_str(), 0555), 0);  // searchable by the child, not writable
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                             ::setresuid(65534, 65534, 65534) != 0))
      ::_exit(3);
    absl::Status s = j.Save(4096);
    std::string text = s.ToString();
    ssize_t n = ::write(pipefd[1], text.data(), text.size());
    ::_exit(n < 0 ? 4 : absl::IsPermissionDenied(s) ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "Save as an unprivileged user: " << text;
  EXPECT_NE(text.find("create " + j.path() + ".tmp."), std::string::npos) << text;
}

}  // namespace
