// RunCommand: runs a shell command, returns its exit status and its output
// (stdout and stderr together), for tests that drive the tools as users do.
//
//   cmbtest::CommandResult r = cmbtest::RunCommand("cmbinfo -o json");
//   EXPECT_EQ(r.status, 0) << r.out;
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace cmbtest {

struct CommandResult {
  int status = -1;  // exit status, -1 when killed by a signal
  std::string out;
};

inline CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace cmbtest
