// BlockQueue (the block-device data path) over a regular file standing in
// for /dev/nvme9n1 in a tree: O_DIRECT io_uring reads and writes at the
// right offsets, fsync, exact transfers (a short one is an error, never a
// partial success), and its refusals before anything is queued. The real
// block device, with P2P buffers, is the VM's (vm.*.cmbcp_block*).
#include "block_queue.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "cmb/dma_buffer.h"

namespace {

using cmb::internal::BlockQueue;
constexpr std::chrono::milliseconds kWait(10000);

// A tree with /dev/nvme9n1: a file of `file_blocks` 512-byte LBAs; the
// namespace claims `ns_blocks`, so reads past the file's end come back short.
struct Device {
  std::string dir;
  cmb::Namespace ns;
  Device(uint64_t file_blocks, uint64_t ns_blocks) {
    char tmpl[] = "/tmp/cmb-blockq-XXXXXX";
    dir = ::mkdtemp(tmpl);
    ::mkdir((dir + "/dev").c_str(), 0755);
    std::ofstream(dir + "/dev/nvme9n1").write(std::string(file_blocks * 512, '\0').data(),
                                               static_cast<std::streamsize>(file_blocks * 512));
    ns.root = cmb::SysRoot(dir);
    ns.name = "nvme9n1";
    ns.block_device = "/dev/nvme9n1";
    ns.lba_size = 512;
    ns.capacity_blocks = ns_blocks;
  }
  ~Device() { std::system(("rm -rf " + dir).c_str()); }
  std::string Bytes() {
    std::ifstream f(dir + "/dev/nvme9n1", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), {});
  }
};

TEST(BlockQueue, WritesAndReadsWholeLbasAtTheirOffsets) {
  Device d(64, 64);
  absl::StatusOr<std::unique_ptr<BlockQueue>> q = BlockQueue::Open(d.ns, {.depth = 4, .writable = true});
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateHostMem(8192);
  ASSERT_TRUE(buf.ok()) << buf.status();
  std::memset(buf->data(), 0xa5, 4096);
  absl::StatusOr<cmb::DmaSpan> first = buf->Slice(0, 4096);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*q)->Write(16, *first, 7).ok());  // LBA 16: byte 8192
  ASSERT_TRUE((*q)->Flush(8).ok());
  EXPECT_EQ((*q)->queued(), 2u);
  std::set<uint64_t> tags;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<cmb::Completion> c = (*q)->Wait(kWait);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->status.ok()) << c->status;
    EXPECT_EQ(c->res, 0);
    tags.insert(c->tag);
  }
  EXPECT_EQ(tags, (std::set<uint64_t>{7, 8})) << "each command reported once, by its tag";
  const std::string bytes = d.Bytes();
  EXPECT_EQ(bytes.substr(0, 8192), std::string(8192, '\0')) << "nothing before the range";
  EXPECT_EQ(bytes.substr(8192, 4096), std::string(4096, '\xa5'));
  EXPECT_EQ(bytes.substr(12288), std::string(bytes.size() - 12288, '\0')) << "nothing after the range";
  absl::StatusOr<cmb::DmaSpan> second = buf->Slice(4096, 4096);
  ASSERT_TRUE((*q)->Read(16, *second, 9).ok());
  absl::StatusOr<cmb::Completion> r = (*q)->Wait(kWait);
  ASSERT_TRUE(r.ok() && r->status.ok()) << (r.ok() ? r->status : r.status());
  EXPECT_EQ(std::memcmp(buf->data(), buf->data() + 4096, 4096), 0);
}

TEST(BlockQueue, AShortReadIsAnErrorNotAPartialSuccess) {
  Device d(8, 64);  // the namespace says 64 LBAs; only 8 are there
  absl::StatusOr<std::unique_ptr<BlockQueue>> q = BlockQueue::Open(d.ns, {.depth = 2});
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateHostMem(8192);
  ASSERT_TRUE(buf.ok());
  ASSERT_TRUE((*q)->Read(4, buf->span(), 1).ok());  // LBAs 4..19: 2 KiB there, 6 KiB not
  absl::StatusOr<cmb::Completion> c = (*q)->Wait(kWait);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->status.code(), absl::StatusCode::kDataLoss) << c->status;
  EXPECT_LT(c->res, 0) << "never positive: that would read as an NVMe status";
  EXPECT_NE(std::string(c->status.message()).find("moved 2048 of 8192 bytes"), std::string::npos) << c->status;
}

TEST(BlockQueue, RefusesBadCommandsBeforeQueueingThem) {
  Device d(64, 64);
  absl::StatusOr<std::unique_ptr<BlockQueue>> q = BlockQueue::Open(d.ns, {.depth = 1, .writable = true});
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateHostMem(8192);
  ASSERT_TRUE(buf.ok());
  EXPECT_EQ((*q)->Write(60, buf->span(), 1).code(), absl::StatusCode::kOutOfRange) << "LBAs 60..75 of 64";
  absl::StatusOr<cmb::DmaSpan> odd = buf->Slice(512, 512);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ((*q)->Read(0, *odd, 1).code(), absl::StatusCode::kInvalidArgument) << "not page aligned";
  absl::StatusOr<cmb::DmaSpan> part = buf->Slice(0, 100);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ((*q)->Read(0, *part, 1).code(), absl::StatusCode::kInvalidArgument) << "not whole LBAs";
  EXPECT_EQ((*q)->Copy(0, 8, 16, 1).code(), absl::StatusCode::kUnimplemented) << "NVMe Copy needs passthrough";
  EXPECT_EQ((*q)->queued(), 0u);
  ASSERT_TRUE((*q)->Flush(1).ok());
  EXPECT_EQ((*q)->Flush(2).code(), absl::StatusCode::kResourceExhausted) << "depth 1";
  absl::StatusOr<cmb::Completion> c = (*q)->Wait(kWait);
  ASSERT_TRUE(c.ok() && c->status.ok());
  EXPECT_EQ(d.Bytes(), std::string(64 * 512, '\0')) << "nothing was written";
}

TEST(BlockQueue, OpenSaysWhatIsMissing) {
  Device d(8, 8);
  cmb::Namespace gone = d.ns;
  gone.block_device = "/dev/nvme8n1";
  EXPECT_EQ(BlockQueue::Open(gone, {.depth = 1}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(BlockQueue::Open(d.ns, {.depth = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BlockQueue::Open(d.ns, {.depth = 1, .iopoll = true}).status().code(),
            absl::StatusCode::kFailedPrecondition) << "no poll queues";
}

}  // namespace
