// PCI addresses (pci_address.h): parsing and formatting.
#include <gtest/gtest.h>

#include "cmb/pci_address.h"

namespace {

TEST(PciAddress, ParsesAndFormats) {
  absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse("0000:03:1f.7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bus, 3);
  EXPECT_EQ(a->device, 0x1f);
  EXPECT_EQ(a->function, 7);
  EXPECT_EQ(a->ToString(), "0000:03:1f.7");
  EXPECT_EQ(cmb::PciAddress::Parse("03:00.0")->ToString(), "0000:03:00.0");
  EXPECT_EQ(cmb::PciAddress::Parse("10000:e1:00.0")->ToString(), "10000:e1:00.0");
  EXPECT_EQ(cmb::PciAddress::Parse("ABCD:EF:01.2")->ToString(), "abcd:ef:01.2");
}

TEST(PciAddress, RejectsMalformed) {
  for (const char* bad : {"", "0000:03:20.0", "0000:03:00.8", "0000:103:00.0", "0000:03:00", "0000:03:00.0.1",
                          "x000:03:00.0", "0000:03:00.-1", ":03:00.0", "0000::00.0", "1:2:3:00.0",
                          "+0000:03:00.0", "0000:0g:00.0"}) {
    absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_NE(a.status().message().find("DDDD:BB:DD.F"), std::string::npos);
    }
  }
}

}  // namespace
