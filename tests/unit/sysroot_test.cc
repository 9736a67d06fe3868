// A tree (CMB_SYSFS_ROOT) confines every open, device nodes included: the
// library cannot reach a host device from a recorded or hand-made tree, even
// when the tree's names collide with the host's /dev entries or its links
// point out of it. The devices here are ones every Linux host has
// (/dev/null, /dev/zero), so a host open would succeed and be detected.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cmb/copy_engine.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/discovery.h"
#include "cmb/identify.h"
#include "cmb/namespace_spec.h"
#include "cmb/nvme_queue.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;

bool IsCharDevice(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

TEST(DeviceRoot, LiveRootOpensTheHostDevice) {
  // The control: the same call on the live system does reach /dev/zero.
  absl::StatusOr<cmb::UniqueFd> fd = cmb::SysRoot().Open("/dev/zero", O_RDONLY);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(IsCharDevice(fd->get()));
}

TEST(DeviceRoot, TreeNeverOpensAHostDeviceOfTheSameName) {
  FakeSysfs t;
  absl::StatusOr<cmb::UniqueFd> fd = t.root().Open("/dev/zero", O_RDONLY);
  ASSERT_FALSE(fd.ok()) << "opened the host's /dev/zero through a tree that has none";
  EXPECT_TRUE(absl::IsNotFound(fd.status())) << fd.status();
  EXPECT_NE(fd.status().message().find(t.dir() + "/dev/zero"), std::string::npos) << fd.status();
}

TEST(DeviceRoot, LinksOutOfTheTreeStayInIt) {
  FakeSysfs t;
  t.Link("/dev/abs", "/dev/zero");                        // absolute: means <tree>/dev/zero
  t.Link("/dev/dots", "../../../../../../../../dev/zero");  // ".." stops at the tree's top
  for (const char* p : {"/dev/abs", "/dev/dots"}) {
    absl::StatusOr<cmb::UniqueFd> fd = t.root().Open(p, O_RDONLY);
    EXPECT_FALSE(fd.ok() && IsCharDevice(fd->get())) << p << " reached a host device";
    EXPECT_TRUE(absl::IsNotFound(fd.status())) << p << ": " << fd.status();
  }
  // A link that stays inside resolves there.
  t.Write("/dev/real", "tree file\n");
  t.Link("/dev/inside", "/dev/real");
  absl::StatusOr<std::string> s = t.root().ReadAttr("/dev/inside");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "tree file");
}

// A tree whose generic device names point at host devices: Identify, queues
// and a whole copy fail with "not found in the tree", never ENOTTY or EINVAL
// from a host device they should not have opened.
struct CollidingTree {
  FakeSysfs t;
  cmb::System sys;
  CollidingTree() {
    t.AddSwitchTestbed();
    for (const char* n : {"ng1n1", "nvme1n1", "ng2n1", "nvme2n1"}) t.Link(std::string("/dev/") + n, "/dev/zero");
    sys = *cmb::Discover(t.root());
  }
  cmb::NamespaceRef Ref(const std::string& spec) { return *cmb::ResolveNamespace(t.root(), sys, spec); }
};

TEST(DeviceRoot, NamespacesFromATreeOpenOnlyInsideIt) {
  CollidingTree c;
  cmb::NamespaceRef r = c.Ref("nvme1:1");
  EXPECT_EQ(r.ns->generic_device, "/dev/ng1n1");
  EXPECT_EQ(r.ns->root.root(), c.t.dir());
  absl::StatusOr<cmb::IdentifyInfo> id = cmb::Identify(*r.ns);
  EXPECT_TRUE(absl::IsNotFound(id.status())) << id.status();
  absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(*r.ns, {.depth = 4, .writable = true});
  ASSERT_FALSE(q.ok()) << "a queue opened a host device for a namespace of the tree";
  EXPECT_TRUE(absl::IsNotFound(q.status()) || absl::IsFailedPrecondition(q.status())) << q.status();
  if (absl::IsNotFound(q.status())) {
    EXPECT_NE(q.status().message().find(c.t.dir() + "/dev/ng1n1"), std::string::npos) << q.status();
  }
}

TEST(DeviceRoot, ADeviceNameThatExistsOnTheHostIsOpenedInTheTree) {
  // A namespace of a tree whose device path names a node every host has: a
  // host open would succeed (and a queue would open), so failing with
  // NotFound proves the open stayed in the tree.
  FakeSysfs t;
  cmb::Namespace ns;
  ns.root = t.root();
  ns.name = "nvme9n1";
  ns.nsid = 1;
  ns.lba_size = 512;
  ns.capacity_blocks = 1 << 20;
  ns.max_transfer_bytes = 1 << 20;
  ns.generic_device = "/dev/zero";
  ns.block_device = "/dev/null";
  absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(ns, {.depth = 4, .writable = true});
  ASSERT_FALSE(q.ok()) << "opened the host's /dev/zero for a namespace of a tree";
  EXPECT_TRUE(absl::IsNotFound(q.status())) << q.status();
  EXPECT_TRUE(absl::IsNotFound(cmb::Identify(ns).status())) << cmb::Identify(ns).status();
  ns.root = cmb::SysRoot();  // the control: the live root does reach it
  EXPECT_TRUE(cmb::NvmeQueue::Open(ns, {.depth = 4}).ok());
}

TEST(DeviceRoot, ABounceCopyPlannedInATreeWritesNothingOutsideIt) {
  // The case measured in a guest: planned against a tree, then I/O on the
  // host's device of the same name. Now the copy cannot start.
  CollidingTree c;
  cmb::CopyRequest req{.src = c.Ref("nvme1:1"), .dst = c.Ref("nvme2:1"), .bytes = 1 << 20,
                       .method = cmb::CopyMethod::kBounce};
  absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanCopy(c.t.root(), c.sys, req);
  ASSERT_TRUE(plan.ok()) << plan.status();
  cmb::CopyResult r = cmb::RunCopy(c.t.root(), *plan);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.commands, 0u);
  EXPECT_EQ(r.bytes_done, 0u);
}

TEST(DeviceRoot, DeviceSpecSymlinksResolveInsideTheTree) {
  // /dev/disk/by-id links are followed inside the tree, not on the host.
  CollidingTree c;
  c.t.Remove("/dev/nvme1n1");
  c.t.Write("/dev/nvme1n1", "");  // stands for the tree's device node
  c.t.Link("/dev/disk/by-id/nvme-one", "../../nvme1n1");
  absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(c.t.root(), c.sys, "/dev/disk/by-id/nvme-one");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ns->name, "nvme1n1");
  c.t.Link("/dev/disk/by-id/host-null", "/dev/null");  // the tree has no /dev/null
  EXPECT_FALSE(cmb::ResolveNamespace(c.t.root(), c.sys, "/dev/disk/by-id/host-null").ok());
}

}  // namespace
