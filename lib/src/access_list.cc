#include "cmb/access_list.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace cmb {
namespace {

constexpr size_t kMaxLine = 4096;

struct KeyName {
  const char* name;
  AccessKey key;
};
constexpr KeyName kKeys[] = {{"wwid", AccessKey::kWwid},
                             {"nguid", AccessKey::kNguid},
                             {"eui", AccessKey::kEui},
                             {"serial", AccessKey::kSerial},
                             {"pci", AccessKey::kPci}};

// The hex digits of an identifier, lower case, without the separators sysfs
// or a user may write ("52 54 00 ...", "5254-...", "52:54:..."); nullopt when
// anything else is in it.
std::optional<std::string> HexDigits(absl::string_view v) {
  std::string out;
  for (char ch : v) {
    if (absl::ascii_isxdigit(static_cast<unsigned char>(ch))) out.push_back(absl::ascii_tolower(ch));
    else if (ch != ' ' && ch != '-' && ch != ':') return std::nullopt;
  }
  return out;
}

bool Printable(absl::string_view v) {
  for (char ch : v)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) return false;
  return true;
}

// The normalised value for `key`, or why `v` cannot be one.
std::variant<std::string, std::string> Normalise(AccessKey key, absl::string_view v) {
  using R = std::variant<std::string, std::string>;
  auto bad = [](std::string why) { return R(std::in_place_index<1>, std::move(why)); };
  auto good = [](std::string val) { return R(std::in_place_index<0>, std::move(val)); };
  if (v.empty()) return bad("the value is empty");
  if (!Printable(v)) return bad("the value has characters that are not printable ASCII");
  switch (key) {
    case AccessKey::kWwid: {
      std::string w = absl::AsciiStrToLower(v);
      for (absl::string_view p : {"eui.", "naa.", "uuid.", "nvme."})
        if (absl::StartsWith(w, p) && w.size() > p.size() && w.find(' ') == std::string::npos) return good(w);
      return bad("a wwid starts with eui., naa., uuid. or nvme., as /sys/block/nvmeXnY/wwid shows it");
    }
    case AccessKey::kNguid:
    case AccessKey::kEui: {
      size_t want = key == AccessKey::kNguid ? 32 : 16;
      std::optional<std::string> hex = HexDigits(v);
      if (!hex || hex->size() != want)
        return bad(absl::StrCat("a", key == AccessKey::kNguid ? "n NGUID" : "n EUI-64", " is ", want,
                                " hex digits, as /sys/block/nvmeXnY/", key == AccessKey::kNguid ? "nguid" : "eui",
                                " shows it"));
      return good(*hex);
    }
    case AccessKey::kSerial:
      if (v.size() > 20) return bad("an NVMe serial number has at most 20 characters");
      return good(std::string(v));
    case AccessKey::kPci: {
      absl::StatusOr<PciAddress> a = PciAddress::Parse(v);
      if (!a.ok()) return bad(std::string(a.status().message()));
      return good(a->ToString());
    }
  }
  return bad("unknown key");
}

// Why a line without a known key is wrong, with the likely intent.
std::string UnknownLine(absl::string_view line) {
  absl::string_view name = line;
  if (size_t eq = line.find('='); eq != absl::string_view::npos) name = line.substr(eq + 1);
  absl::ConsumePrefix(&name, "/dev/");
  name = absl::StripAsciiWhitespace(name);
  if (absl::StartsWith(name, "nvme") || absl::StartsWith(name, "ng"))
    return absl::StrCat("'", line, "' names a device by its kernel name, which can change between boots: use ",
                        "wwid=, nguid= or eui= for a namespace, serial= or pci= for a controller");
  return absl::StrCat("'", line, "' is not KEY=VALUE with KEY one of wwid, nguid, eui, serial, pci");
}

// The entry of one line, or a warning; nullopt for a blank or comment line.
std::optional<std::variant<AccessEntry, std::string>> ParseLine(absl::string_view raw, int number) {
  using R = std::variant<AccessEntry, std::string>;
  if (raw.size() > kMaxLine) return R(std::in_place_index<1>, absl::StrCat("longer than ", kMaxLine, " bytes"));
  absl::string_view line = raw.substr(0, raw.find('#'));
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return std::nullopt;
  size_t eq = line.find('=');
  std::string key = eq == absl::string_view::npos
                        ? ""
                        : absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
  for (const KeyName& k : kKeys) {
    if (key != k.name) continue;
    std::variant<std::string, std::string> v = Normalise(k.key, absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (v.index() == 1) return R(std::in_place_index<1>, absl::StrCat(k.name, "=: ", std::get<1>(v)));
    return R(AccessEntry{k.key, std::get<0>(v), number});
  }
  return R(std::in_place_index<1>, UnknownLine(line));
}

// Why a list that someone other than its reader (root, under udev) could
// have written must not be trusted; empty when it is safe: the file and its
// directory owned by root or the reader, writable by no one else (a sticky
// directory, as /tmp, keeps others from replacing the file).
std::string UnsafeOwner(const std::string& path) {
  size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat f {}, d {};
  if (::stat(path.c_str(), &f) != 0 || ::stat(dir.c_str(), &d) != 0)
    return absl::StrCat("cannot stat it or ", dir, " (", std::strerror(errno), ")");
  const uid_t me = ::geteuid();
  if ((f.st_uid != 0 && f.st_uid != me) || (f.st_mode & 022) != 0)
    return "it is writable by a user other than root (own it by root, mode 0644)";
  if ((d.st_uid != 0 && d.st_uid != me) || ((d.st_mode & 022) != 0 && (d.st_mode & S_ISVTX) == 0))
    return absl::StrCat("its directory ", dir, " is writable by a user other than root");
  return "";
}

bool SameHex(const std::string& entry, const std::string& sysfs) {
  std::optional<std::string> hex = HexDigits(sysfs);
  return hex && !hex->empty() && *hex == entry;
}

// Does `e` name this namespace itself (not through its controller)?
bool NamesNamespace(const AccessEntry& e, const Namespace& ns) {
  switch (e.key) {
    case AccessKey::kWwid: return !ns.id.wwid.empty() && absl::AsciiStrToLower(ns.id.wwid) == e.value;
    case AccessKey::kNguid: return SameHex(e.value, ns.id.nguid);
    case AccessKey::kEui: return SameHex(e.value, ns.id.eui);
    default: return false;
  }
}

bool NamesController(const AccessEntry& e, const Controller& c) {
  switch (e.key) {
    case AccessKey::kSerial: return !c.serial.empty() && absl::StripAsciiWhitespace(c.serial) == e.value;
    case AccessKey::kPci: return c.address && c.address->ToString() == e.value;
    default: return false;
  }
}

std::string Listed(const AccessList& list, const AccessEntry& e) {
  return absl::StrCat("listed as ", e.ToString(), " (", list.source, " line ", e.line, ")");
}

}  // namespace

const char* DefaultAccessListPath() { return CMB_DEVICES_FILE; }

const char* AccessKeyName(AccessKey k) {
  for (const KeyName& n : kKeys)
    if (n.key == k) return n.name;
  return "?";
}

std::string AccessEntry::ToString() const { return absl::StrCat(AccessKeyName(key), "=", value); }

AccessList ParseAccessList(absl::string_view text, absl::string_view source) {
  AccessList list;
  list.source = std::string(source);
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::ConsumeSuffix(&raw, "\r");
    std::optional<std::variant<AccessEntry, std::string>> r = ParseLine(raw, number);
    if (!r) continue;
    if (r->index() == 1) {
      list.warnings.push_back(absl::StrCat(source, ":", number, ": ", std::get<1>(*r), "; the line was skipped"));
      continue;
    }
    AccessEntry& e = std::get<0>(*r);
    auto first = std::find_if(list.entries.begin(), list.entries.end(),
                              [&](const AccessEntry& x) { return x.key == e.key && x.value == e.value; });
    if (first != list.entries.end()) {
      list.warnings.push_back(absl::StrCat(source, ":", number, ": ", e.ToString(), " repeats line ", first->line,
                                           "; the line was skipped"));
      continue;
    }
    list.entries.push_back(std::move(e));
  }
  return list;
}

AccessList LoadAccessList(const std::string& path) {
  AccessList refused;
  refused.source = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    refused.warnings.push_back(absl::StrCat(path, ": cannot read it (", std::strerror(errno),
                                            "): nothing is granted until it lists namespaces"));
    return refused;
  }
  if (std::string why = UnsafeOwner(path); !why.empty()) {
    refused.warnings.push_back(absl::StrCat(path, ": ", why, ": nothing is granted until that is fixed"));
    return refused;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseAccessList(text.str(), path);
}

AccessDecision DecideNamespaceAccess(const AccessList& list, const Controller& c, const Namespace& ns) {
  const AccessEntry* hit = nullptr;
  for (const AccessEntry& e : list.entries)
    if (!hit && (NamesNamespace(e, ns) || NamesController(e, c))) hit = &e;
  if (!hit) return {false, absl::StrCat("not listed in ", list.source)};
  if (std::vector<std::string> uses = ns.uses(); !uses.empty())
    return {false, absl::StrCat("in use (", absl::StrJoin(uses, ", "), "), though ", Listed(list, *hit))};
  if (!ns.use_unknown.empty())
    return {false, absl::StrCat("cannot tell whether it is in use (", ns.use_unknown, "), though ", Listed(list, *hit))};
  return {true, Listed(list, *hit)};
}

AccessDecision DecideP2pMemAccess(const AccessList& list, const Controller& c) {
  for (const AccessEntry& e : list.entries) {
    if (NamesController(e, c)) return {true, Listed(list, e)};
    for (const Namespace& ns : c.namespaces)
      if (NamesNamespace(e, ns)) return {true, absl::StrCat("its namespace ", ns.name, " is ", Listed(list, e))};
  }
  return {false, absl::StrCat("neither ", c.name, " nor a namespace of it is listed in ", list.source)};
}

}  // namespace cmb
