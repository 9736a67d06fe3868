// What every in-guest test needs from the VM testbed (tests/vm/vm.sh): which
// topology booted, and the emulated controllers by serial ("cmb", "src",
// "dst"), since nvmeX numbers follow probe order and vary between boots.
//
//   ASSERT_EQ(cmbtest::Topology(), "switch");
//   const cmb::Controller& src = cmbtest::BySerial(sys, "src");
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "cmb/discovery.h"

namespace cmbtest {

inline std::string Topology() {
  const char* t = std::getenv("CMB_TOPOLOGY");
  return t ? t : "";
}

// The controller with `serial`; a test failure (and an empty controller) when none.
inline const cmb::Controller& BySerial(const cmb::System& sys, const std::string& serial) {
  for (const cmb::Controller& c : sys.controllers)
    if (c.serial == serial) return c;
  ADD_FAILURE() << "no controller with serial " << serial;
  static const cmb::Controller none;
  return none;
}

}  // namespace cmbtest
