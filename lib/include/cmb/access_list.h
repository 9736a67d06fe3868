// AccessList: the administrator's list of NVMe namespaces and controllers
// that an unprivileged group may use (the package installs it empty as
// /etc/cmb/devices), and the grant decision made from it for each namespace
// and each CMB. Nothing is granted that the list does not name, and a
// namespace in use is never granted, listed or not.
//
//   cmb::AccessList list = cmb::LoadAccessList("/etc/cmb/devices");
//   for (const std::string& w : list.warnings) ...   // "/etc/cmb/devices:3: ..."
//   cmb::AccessDecision d = cmb::DecideNamespaceAccess(list, controller, ns);
//   if (d.granted) ...                               // d.reason says why, either way
//
// The format, one entry per line, '#' starting a comment:
//   wwid=eui.0025385b71b0a1c2     one namespace, the value as sysfs prints it
//   nguid=...  eui=...            one namespace
//   serial=S3EWNX0K123456         every namespace of the controller(s) with it
//   pci=0000:03:00.0              every namespace of the controller there
// Names such as nvme1n1 change between boots and are refused. A bad line is
// skipped with a warning naming file and line; it never grants anything.
// Entries form a set: order does not matter, and a repeat is reported and
// ignored.
//
// Threads: value types and pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cmb/discovery.h"

namespace cmb {

enum class AccessKey { kWwid, kNguid, kEui, kSerial, kPci };
const char* AccessKeyName(AccessKey k);  // "wwid", "nguid", "eui", "serial", "pci"

struct AccessEntry {
  AccessKey key = AccessKey::kWwid;
  std::string value;  // normalised: hex identifiers lower case, PCI addresses "DDDD:BB:DD.F"
  int line = 0;       // 1-based line in the source
  std::string ToString() const;  // "wwid=eui.0025...", as the file would say it
};

struct AccessList {
  std::string source;  // the file it came from, for messages
  std::vector<AccessEntry> entries;
  std::vector<std::string> warnings;  // "SOURCE:LINE: what is wrong; the line was skipped"
};

// Where the package installs the list: SYSCONFDIR/cmb/devices of the build
// ("/etc/cmb/devices" for the /usr prefix).
const char* DefaultAccessListPath();

// Parses the text of a list. Never fails: bad lines become warnings.
AccessList ParseAccessList(absl::string_view text, absl::string_view source);

// Reads and parses `path`. A missing or unreadable file is an empty list
// (nothing granted) with a warning that says why.
AccessList LoadAccessList(const std::string& path);

struct AccessDecision {
  bool granted = false;
  std::string reason;  // "listed as wwid=... (line 2)", "not listed in /etc/cmb/devices", "in use: mounted on /srv"
};

// May the group open this namespace's generic device (/dev/ngXnY) for
// writing? Only when an entry names it or its controller, and it is not in
// use: no mounted file system, swap, holder (md, dm, LVM, bcache), not the
// disk under /, /boot or /usr, and its use could be read.
AccessDecision DecideNamespaceAccess(const AccessList& list, const Controller& c, const Namespace& ns);

// May the group allocate from this controller's CMB (p2pmem/allocate)? Only
// when an entry names the controller or one of its namespaces. Allocating
// CMB memory writes no storage, so use does not matter here.
AccessDecision DecideP2pMemAccess(const AccessList& list, const Controller& c);

}  // namespace cmb
