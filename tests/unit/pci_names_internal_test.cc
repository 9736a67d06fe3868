// PciNames (lib/src/pci_names.h) on its own: what Load says of a missing or
// malformed list, and that a moved-from owner names nothing.
#include "pci_names.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace {

class PciNamesFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmb-pciids-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { unlink(path_.c_str()); }
  void Write(const std::string& s) { std::ofstream(path_, std::ios::trunc) << s; }
  std::string path_;
};

TEST_F(PciNamesFile, LoadsAndNames) {
  Write("1b36  Red Hat, Inc.\n\t0010  QEMU NVM Express Controller\nC 01  Mass storage controller\n\t08  Non-Volatile memory controller\n");
  absl::StatusOr<cmb::internal::PciNames> n = cmb::internal::PciNames::Load(path_);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->Device(0x1b36, 0x0010), "Red Hat, Inc. QEMU NVM Express Controller");
  EXPECT_EQ(n->Class(0x010802), "Non-Volatile memory controller");
  cmb::internal::PciNames moved = std::move(*n);
  EXPECT_EQ(moved.Device(0x1b36, 0x0010), "Red Hat, Inc. QEMU NVM Express Controller");
  EXPECT_EQ(n->Device(0x1b36, 0x0010), std::nullopt);  // a moved-from owner names nothing
}

TEST_F(PciNamesFile, MissingAndMalformed) {
  EXPECT_EQ(cmb::internal::PciNames::Load(path_ + ".none").status().code(), absl::StatusCode::kNotFound);
  Write("1b36  Red Hat, Inc.\n\t0010  QEMU\n\t0010  QEMU again\n");  // libpci: "Duplicate entry"
  absl::StatusOr<cmb::internal::PciNames> n = cmb::internal::PciNames::Load(path_);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(n.status().message().find("Duplicate entry"), std::string::npos) << n.status();
}

TEST(PciNamesDefault, IsLibpcisPath) {
  EXPECT_NE(cmb::internal::PciNames::DefaultPath().find("pci.ids"), std::string::npos);
}

}  // namespace
