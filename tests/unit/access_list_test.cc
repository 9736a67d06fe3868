// The access list (/etc/cmb/devices) and the grant decisions made from it,
// the root-disk rule of discovery over fake mountinfo and sysfs trees, and
// `force` without CAP_SYS_ADMIN. What udev does with the decisions is checked
// for real by tests/vm/udev_test.sh.
#include <sched.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cmb/access_list.h"
#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/namespace_spec.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;

std::string Entries(const cmb::AccessList& l) {
  std::vector<std::string> v;
  for (const cmb::AccessEntry& e : l.entries) v.push_back(absl::StrCat(e.ToString(), "@", e.line));
  return absl::StrJoin(v, " ");
}

TEST(AccessList, EmptyTextGrantsNothingAndWarnsOfNothing) {
  cmb::AccessList l = cmb::ParseAccessList("", "/etc/cmb/devices");
  EXPECT_TRUE(l.entries.empty());
  EXPECT_TRUE(l.warnings.empty());
  l = cmb::ParseAccessList("# nothing yet\n\n   \n", "/etc/cmb/devices");
  EXPECT_TRUE(l.entries.empty());
  EXPECT_TRUE(l.warnings.empty());
}

TEST(AccessList, EveryKeyNormalisedAsSysfsPrintsIt) {
  cmb::AccessList l = cmb::ParseAccessList(
      "# scratch drives\n"
      "wwid=EUI.5254000000000101   # upper case as typed\n"
      "nguid=52540000-0000-0000-0000-0000000000AB\n"
      "eui = 52 54 00 00 00 00 01 01\r\n"
      "serial=S3EW NX0K\n"
      "pci=03:00.0\n",
      "devs");
  EXPECT_TRUE(l.warnings.empty()) << absl::StrJoin(l.warnings, "\n");
  EXPECT_EQ(Entries(l),
            "wwid=eui.5254000000000101@2 nguid=525400000000000000000000000000ab@3 eui=5254000000000101@4 "
            "serial=S3EW NX0K@5 pci=0000:03:00.0@6");
}

TEST(AccessList, BadLinesAreSkippedWithFileAndLine) {
  struct Case {
    std::string line, says;
  };
  for (const Case& c : std::vector<Case>{
           {"nvme1n1", "kernel name"},
           {"name=/dev/nvme1n1", "kernel name"},
           {"/dev/ng1n1", "kernel name"},
           {"foo=bar", "not KEY=VALUE"},
           {"just words", "not KEY=VALUE"},
           {"wwid=", "empty"},
           {"wwid=mydisk", "starts with eui."},
           {"eui=5254", "16 hex digits"},
           {"nguid=zz540000-0000-0000-0000-0000000000ab", "32 hex digits"},
           {"serial=123456789012345678901", "at most 20"},
           {"serial=a\x01" "b", "printable"},
           {"pci=zz:00.0", "pci=:"},
           {"wwid=eui.1" + std::string(5000, '0'), "longer than"},
       }) {
    cmb::AccessList l = cmb::ParseAccessList("serial=good\n" + c.line + "\n", "/etc/cmb/devices");
    EXPECT_EQ(Entries(l), "serial=good@1") << c.line;
    ASSERT_EQ(l.warnings.size(), 1u) << c.line;
    EXPECT_TRUE(absl::StartsWith(l.warnings[0], "/etc/cmb/devices:2: ")) << l.warnings[0];
    EXPECT_TRUE(absl::StrContains(l.warnings[0], c.says)) << l.warnings[0];
    EXPECT_TRUE(absl::EndsWith(l.warnings[0], "the line was skipped")) << l.warnings[0];
  }
}

TEST(AccessList, RepeatsAreReportedOnceAndOrderDoesNotMatter) {
  cmb::AccessList a = cmb::ParseAccessList("serial=x\npci=0000:03:00.0\nserial=x\npci=03:00.0\n", "f");
  EXPECT_EQ(Entries(a), "serial=x@1 pci=0000:03:00.0@2");
  ASSERT_EQ(a.warnings.size(), 2u);
  EXPECT_EQ(a.warnings[0], "f:3: serial=x repeats line 1; the line was skipped");
  EXPECT_EQ(a.warnings[1], "f:4: pci=0000:03:00.0 repeats line 2; the line was skipped");
}

TEST(AccessList, MissingFileIsEmptyWithAWarning) {
  cmb::AccessList l = cmb::LoadAccessList("/nonexistent/cmb/devices");
  EXPECT_TRUE(l.entries.empty());
  ASSERT_EQ(l.warnings.size(), 1u);
  EXPECT_TRUE(absl::StrContains(l.warnings[0], "/nonexistent/cmb/devices: cannot read it")) << l.warnings[0];
  EXPECT_TRUE(absl::StrContains(l.warnings[0], "nothing is granted")) << l.warnings[0];
}

// A list others could have written grants nothing.
TEST(AccessList, ListWritableByOthersGrantsNothing) {
  FakeSysfs t;  // a private directory
  t.Write("/devices", "serial=x\n");
  const std::string path = t.dir() + "/devices";
  EXPECT_EQ(cmb::LoadAccessList(path).entries.size(), 1u);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  cmb::AccessList l = cmb::LoadAccessList(path);
  EXPECT_TRUE(l.entries.empty());
  ASSERT_EQ(l.warnings.size(), 1u);
  EXPECT_TRUE(absl::StrContains(l.warnings[0], "writable by a user other than root")) << l.warnings[0];
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(t.dir().c_str(), 0777), 0);  // a directory anyone may write, not sticky
  l = cmb::LoadAccessList(path);
  EXPECT_TRUE(l.entries.empty());
  EXPECT_TRUE(absl::StrContains(l.warnings.at(0), "its directory")) << l.warnings[0];
  ASSERT_EQ(::chmod(t.dir().c_str(), 01777), 0);  // sticky, as /tmp: others cannot replace the file
  EXPECT_EQ(cmb::LoadAccessList(path).entries.size(), 1u);
  ASSERT_EQ(::chmod(t.dir().c_str(), 0700), 0);
}

// The switch testbed: nvme0 at 03:00.0 with a CMB, nvme1 and nvme2 plain.
struct Tree {
  FakeSysfs t;
  Tree() { t.AddSwitchTestbed(2); }
  // Partition N of nvmeXn1 ("nvme1", 2 -> nvme1n1p2), with its device number.
  void Partition(const std::string& ctrl, int n, const std::string& majmin) {
    std::string dir = absl::StrCat("/sys/class/nvme/", ctrl, "/", ctrl, "n1/", ctrl, "n1p", n);
    t.Write(dir + "/partition", absl::StrCat(n, "\n"));
    t.Write(dir + "/dev", majmin + "\n");
  }
  // nvme2n1 (the requests' destination) holds an xfs mounted on /mnt/x.
  void MountDestination() {
    t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:20 / /mnt/x rw - xfs /dev/nvme2n1 rw\n");
  }
  cmb::System Load() {
    absl::StatusOr<cmb::System> s = cmb::Discover(t.root());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : cmb::System{};
  }
};

const cmb::Controller& Ctrl(const cmb::System& s, const std::string& name) { return *s.FindController(name); }

cmb::AccessDecision Ns(const cmb::System& s, const cmb::AccessList& l, const std::string& ctrl) {
  const cmb::Controller& c = Ctrl(s, ctrl);
  return cmb::DecideNamespaceAccess(l, c, c.namespaces.at(0));
}

TEST(AccessDecision, NothingListedNothingGranted) {
  Tree tr;
  cmb::System s = tr.Load();
  cmb::AccessList l = cmb::ParseAccessList("", "/etc/cmb/devices");
  for (const cmb::Controller& c : s.controllers) {
    for (const cmb::Namespace& ns : c.namespaces) {
      cmb::AccessDecision d = cmb::DecideNamespaceAccess(l, c, ns);
      EXPECT_FALSE(d.granted) << ns.name;
      EXPECT_EQ(d.reason, "not listed in /etc/cmb/devices");
    }
  }
  cmb::AccessDecision p = cmb::DecideP2pMemAccess(l, Ctrl(s, "nvme0"));
  EXPECT_FALSE(p.granted);
  EXPECT_EQ(p.reason, "neither nvme0 nor a namespace of it is listed in /etc/cmb/devices");
}

TEST(AccessDecision, EachKeyGrantsWhatItNamesAndNoMore) {
  Tree tr;
  cmb::System s = tr.Load();
  const std::string wwid1 = Ctrl(s, "nvme1").namespaces[0].id.wwid;
  cmb::AccessList l = cmb::ParseAccessList("wwid=" + wwid1 + "\n", "devs");
  EXPECT_TRUE(Ns(s, l, "nvme1").granted);
  EXPECT_EQ(Ns(s, l, "nvme1").reason, "listed as wwid=" + wwid1 + " (devs line 1)");
  EXPECT_FALSE(Ns(s, l, "nvme2").granted);
  EXPECT_FALSE(Ns(s, l, "nvme0").granted);
  EXPECT_FALSE(cmb::DecideP2pMemAccess(l, Ctrl(s, "nvme0")).granted);

  l = cmb::ParseAccessList("serial=serial-nvme2\n", "devs");
  EXPECT_TRUE(Ns(s, l, "nvme2").granted);
  EXPECT_FALSE(Ns(s, l, "nvme1").granted);

  // A controller by address: its namespaces and its CMB.
  l = cmb::ParseAccessList("pci=03:00.0\n", "devs");
  EXPECT_TRUE(Ns(s, l, "nvme0").granted);
  EXPECT_TRUE(cmb::DecideP2pMemAccess(l, Ctrl(s, "nvme0")).granted);
  EXPECT_FALSE(Ns(s, l, "nvme1").granted);

  // A namespace of the CMB's controller grants the CMB too.
  l = cmb::ParseAccessList("wwid=" + Ctrl(s, "nvme0").namespaces[0].id.wwid + "\n", "devs");
  cmb::AccessDecision p = cmb::DecideP2pMemAccess(l, Ctrl(s, "nvme0"));
  EXPECT_TRUE(p.granted);
  EXPECT_TRUE(absl::StartsWith(p.reason, "its namespace nvme0n1 is listed as wwid=")) << p.reason;
}

TEST(AccessDecision, NguidAndEuiMatchWhateverTheSeparators) {
  Tree tr;
  tr.t.Write("/sys/class/nvme/nvme1/nvme1n1/nguid", "52540000-0000-0000-0000-0000000000ab\n");
  tr.t.Write("/sys/class/nvme/nvme2/nvme2n1/eui", "52 54 00 00 00 00 02 01\n");
  cmb::System s = tr.Load();
  cmb::AccessList l = cmb::ParseAccessList("nguid=525400000000000000000000000000AB\neui=52:54:00:00:00:00:02:01\n", "d");
  EXPECT_TRUE(l.warnings.empty()) << absl::StrJoin(l.warnings, "\n");
  EXPECT_TRUE(Ns(s, l, "nvme1").granted) << Ns(s, l, "nvme1").reason;
  EXPECT_TRUE(Ns(s, l, "nvme2").granted) << Ns(s, l, "nvme2").reason;
  EXPECT_FALSE(Ns(s, l, "nvme0").granted);
}

TEST(AccessDecision, ListedButInUseIsNotGranted) {
  Tree tr;
  tr.t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:10 / /srv rw - ext4 /dev/nvme1n1 rw\n");
  tr.t.Write("/proc/swaps", "Filename Type Size Used Priority\n/dev/nvme2n1 partition 1048572 0 -2\n");
  cmb::System s = tr.Load();
  cmb::AccessList l = cmb::ParseAccessList("serial=serial-nvme1\nserial=serial-nvme2\n", "devs");
  cmb::AccessDecision d1 = Ns(s, l, "nvme1"), d2 = Ns(s, l, "nvme2");
  EXPECT_FALSE(d1.granted);
  EXPECT_EQ(d1.reason, "in use (mounted on /srv), though listed as serial=serial-nvme1 (devs line 1)");
  EXPECT_FALSE(d2.granted);
  EXPECT_TRUE(absl::StartsWith(d2.reason, "in use (swap on /dev/nvme2n1)")) << d2.reason;
  // A holder (md, dm, LVM, bcache) stacked on a partition.
  Tree held;
  held.Partition("nvme1", 1, "259:11");
  held.t.Write("/sys/class/nvme/nvme1/nvme1n1/nvme1n1p1/holders/md0/dev", "9:0\n");
  cmb::System hs = held.Load();
  cmb::AccessDecision dh = Ns(hs, l, "nvme1");
  EXPECT_FALSE(dh.granted);
  EXPECT_TRUE(absl::StartsWith(dh.reason, "in use (held by md0)")) << dh.reason;
}

TEST(AccessDecision, UnknownUseIsNotGranted) {
  Tree tr;
  tr.t.Remove("/proc/self/mountinfo");
  cmb::System s = tr.Load();
  cmb::AccessDecision d = Ns(s, cmb::ParseAccessList("serial=serial-nvme1\n", "devs"), "nvme1");
  EXPECT_FALSE(d.granted);
  EXPECT_TRUE(absl::StartsWith(d.reason, "cannot tell whether it is in use (cannot read the mount table")) << d.reason;
}

// The root-disk rule: the disk carrying /, /boot or /usr is in use, even when
// nothing on the disk itself shows as mounted.
TEST(SystemDisks, RootOnAPartitionMarksTheWholeDisk) {
  Tree tr;
  tr.Partition("nvme1", 2, "259:12");
  tr.t.Write("/proc/self/mountinfo", "22 1 259:12 / / rw,relatime - ext4 /dev/nvme1n1p2 rw\n"
                                     "23 22 0:5 / /proc rw - proc proc rw\n");
  cmb::System s = tr.Load();
  const cmb::Namespace& n1 = Ctrl(s, "nvme1").namespaces[0];
  EXPECT_EQ(absl::StrJoin(n1.system_mounts, ","), "/");
  EXPECT_TRUE(n1.in_use());
  EXPECT_TRUE(Ctrl(s, "nvme2").namespaces[0].system_mounts.empty());
  cmb::AccessDecision d = Ns(s, cmb::ParseAccessList("pci=0000:04:00.0\n", "devs"), "nvme1");
  EXPECT_FALSE(d.granted);
  EXPECT_TRUE(absl::StrContains(d.reason, "holds /")) << d.reason;
}

TEST(SystemDisks, ThroughDeviceMapperAndByMapperName) {
  Tree tr;
  // / on dm-0 (LVM over nvme2n1p1); /boot on /dev/mapper/boot (dm-1 over nvme1n1).
  tr.Partition("nvme2", 1, "259:21");
  tr.t.Write("/sys/devices/virtual/block/dm-0/dev", "254:0\n");
  tr.t.Write("/sys/devices/virtual/block/dm-0/dm/name", "vg-root\n");
  tr.t.Write("/sys/devices/virtual/block/dm-0/slaves/nvme2n1p1/dev", "259:21\n");
  tr.t.Link("/sys/block/dm-0", "../devices/virtual/block/dm-0");
  tr.t.Write("/sys/devices/virtual/block/dm-1/dev", "254:1\n");
  tr.t.Write("/sys/devices/virtual/block/dm-1/dm/name", "boot\n");
  tr.t.Write("/sys/devices/virtual/block/dm-1/slaves/nvme1n1/dev", "259:10\n");
  tr.t.Link("/sys/block/dm-1", "../devices/virtual/block/dm-1");
  tr.t.Write("/proc/self/mountinfo", "22 1 254:0 / / rw - ext4 /dev/mapper/vg-root rw\n"
                                     "24 22 0:40 / /boot rw shared:5 - btrfs /dev/mapper/boot rw\n"
                                     "25 22 259:0 / /srv rw - xfs /dev/nvme0n1 rw\n");
  cmb::System s = tr.Load();
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme2").namespaces[0].system_mounts, ","), "/ (through dm-0)");
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme1").namespaces[0].system_mounts, ","), "/boot (through dm-1)");
  // /srv is in use, but not a system mount.
  EXPECT_TRUE(Ctrl(s, "nvme0").namespaces[0].system_mounts.empty());
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme0").namespaces[0].mountpoints, ","), "/srv");
}

TEST(SystemDisks, AnonymousDeviceNumberFallsBackToTheSource) {
  Tree tr;
  tr.t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                     "26 22 0:33 /@usr /usr rw - btrfs /dev/nvme2n1 rw,space_cache\n");
  cmb::System s = tr.Load();
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme2").namespaces[0].system_mounts, ","), "/usr");
  EXPECT_TRUE(Ctrl(s, "nvme2").namespaces[0].in_use());
}

// Any mount, not only /, /boot and /usr: a file system with an anonymous
// device number (btrfs shows 0:NN) is found by its source, and every device
// of a multi-device btrfs is in use, though mountinfo names one.
TEST(MountedDevices, AnonymousDeviceNumbersAndBtrfsSiblings) {
  Tree tr;
  tr.Partition("nvme1", 1, "259:11");
  tr.t.Write("/sys/fs/btrfs/0b2c/devices/nvme1n1p1", "");
  tr.t.Write("/sys/fs/btrfs/0b2c/devices/nvme2n1", "");
  tr.t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                     "40 22 0:45 /@data /srv rw,relatime - btrfs /dev/nvme1n1p1 rw\n");
  cmb::System s = tr.Load();
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme1").namespaces[0].mountpoints, ","), "/srv");
  EXPECT_EQ(absl::StrJoin(Ctrl(s, "nvme2").namespaces[0].mountpoints, ","), "/srv (btrfs with nvme1n1p1)");
  EXPECT_TRUE(Ctrl(s, "nvme0").namespaces[0].mountpoints.empty());
  cmb::AccessList l = cmb::ParseAccessList("serial=serial-nvme1\nserial=serial-nvme2\n", "devs");
  EXPECT_FALSE(Ns(s, l, "nvme1").granted) << Ns(s, l, "nvme1").reason;
  EXPECT_FALSE(Ns(s, l, "nvme2").granted) << Ns(s, l, "nvme2").reason;
  EXPECT_TRUE(absl::StrContains(Ns(s, l, "nvme2").reason, "mounted on /srv (btrfs with nvme1n1p1)"));
}

// Drops CAP_SYS_ADMIN from the effective set for the scope, as a member of the
// access group runs, and raises it again after.
class WithoutSysAdmin {
 public:
  WithoutSysAdmin() { Set(CAP_CLEAR); }
  ~WithoutSysAdmin() { Set(CAP_SET); }

 private:
  static void Set(cap_flag_value_t v) {
    cap_t c = cap_get_proc();
    ASSERT_NE(c, nullptr);
    cap_value_t admin = CAP_SYS_ADMIN;
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(c, CAP_SYS_ADMIN, CAP_PERMITTED, &permitted);
    if (permitted == CAP_SET) {  // not root: nothing to drop or raise
      ASSERT_EQ(cap_set_flag(c, CAP_EFFECTIVE, 1, &admin, v), 0);
      ASSERT_EQ(cap_set_proc(c), 0);
    }
    cap_free(c);
  }
};

cmb::CopyRequest Request(const FakeSysfs& t, const cmb::System& s, bool force) {
  cmb::CopyRequest req;
  req.src = *cmb::ResolveNamespace(t.root(), s, "nvme1:1");
  req.dst = *cmb::ResolveNamespace(t.root(), s, "nvme2:1");
  req.count = 8;
  req.force = force;
  return req;
}

TEST(ForceIsNotAPermission, InUseNeedsCapSysAdmin) {
  Tree tr;
  tr.MountDestination();
  cmb::System s = tr.Load();
  {
    WithoutSysAdmin drop;
    absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(tr.t.root(), s, Request(tr.t, s, true));
    EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied) << p.status();
    EXPECT_TRUE(absl::StrContains(p.status().message(), "mounted on /mnt/x")) << p.status();
    EXPECT_TRUE(absl::StrContains(p.status().message(), "needs CAP_SYS_ADMIN")) << p.status();
    // Unforced, it is the usual refusal.
    p = cmb::PlanCopy(tr.t.root(), s, Request(tr.t, s, false));
    EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition) << p.status();
  }
  // Root (the test runs as root in CI) may override it.
  if (geteuid() == 0) {
    absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(tr.t.root(), s, Request(tr.t, s, true));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_FALSE(p->hold_dst);
  }
}

// `unshare -r` gives any user CAP_SYS_ADMIN in a user namespace of its own:
// that does not count.
TEST(ForceIsNotAPermission, CapSysAdminOfAnotherUserNamespaceDoesNotCount) {
  Tree tr;
  tr.MountDestination();
  cmb::System s = tr.Load();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWUSER) != 0) _exit(10);  // the child holds every capability in its namespace now
    cap_t c = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    cap_get_flag(c, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v);
    cap_free(c);
    if (v != CAP_SET) _exit(11);
    absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(tr.t.root(), s, Request(tr.t, s, true));
    _exit(p.status().code() == absl::StatusCode::kPermissionDenied &&
                  absl::StrContains(p.status().message(), "needs CAP_SYS_ADMIN")
              ? 0
              : 12);
  }
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "10: unshare failed, 11: no CAP_SYS_ADMIN in the namespace, 12: force overrode";
}

// Comparing (cmbcp --verify-only) writes nothing: a member may compare an
// in-use destination, and the Copier refuses such a plan.
TEST(ForceIsNotAPermission, ReadOnlyPlansNeedNoOverride) {
  Tree tr;
  tr.MountDestination();
  cmb::System s = tr.Load();
  WithoutSysAdmin drop;
  cmb::CopyRequest req = Request(tr.t, s, false);
  req.read_only = true;
  absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(tr.t.root(), s, req);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->read_only);
  EXPECT_FALSE(p->hold_dst);
  absl::StatusOr<cmb::Copier> c = cmb::Copier::Open(tr.t.root(), *p);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "read-only")) << c.status();
}

TEST(ForceIsNotAPermission, UnusedDestinationIsStillHeld) {
  Tree tr;
  cmb::System s = tr.Load();
  WithoutSysAdmin drop;
  absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(tr.t.root(), s, Request(tr.t, s, true));
  ASSERT_TRUE(p.ok()) << p.status();
  // Without the capability `force` overrides nothing: the copy still takes
  // the exclusive hold, so a device claimed meanwhile is refused.
  EXPECT_TRUE(p->hold_dst);
  EXPECT_TRUE(p->overridden.empty());
}

}  // namespace
