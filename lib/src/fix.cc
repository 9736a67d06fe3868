// Fixes travel as one payload, a line per field and a blank line between
// fixes ("kind=3\nmodule=nvme\n..."), so a status keeps them through every
// copy and through Reworded.
#include "cmb/fix.h"

#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cmb {
namespace {

constexpr char kUrl[] = "type.cmb/fix";
constexpr const char* kFields[] = {"device", "need", "module", "parameter", "value", "group", "list"};

// The string field named `key`; null for none. FixT is Fix or const Fix.
template <typename FixT>
auto Field(FixT& f, absl::string_view key) -> decltype(&f.device) {
  decltype(&f.device) fields[] = {&f.device, &f.need, &f.module, &f.parameter, &f.value, &f.group, &f.list};
  for (size_t i = 0; i < std::size(kFields); ++i)
    if (key == kFields[i]) return fields[i];
  return nullptr;
}

std::string Encode(const Fix& f) {
  std::string out = absl::StrCat("kind=", static_cast<int>(f.kind), "\nlook=", static_cast<int>(f.look),
                                 "\noption=", static_cast<int>(f.option), "\n");
  for (const char* k : kFields)
    if (const std::string* v = Field(f, k); !v->empty()) absl::StrAppend(&out, k, "=", *v, "\n");  // no newlines in fields
  return out;
}

std::optional<Fix> Decode(absl::string_view text) {
  Fix f;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    int n = 0;
    if (kv.first == "kind" && absl::SimpleAtoi(kv.second, &n)) f.kind = static_cast<Fix::Kind>(n);
    else if (kv.first == "look" && absl::SimpleAtoi(kv.second, &n)) f.look = static_cast<Fix::Look>(n);
    else if (kv.first == "option" && absl::SimpleAtoi(kv.second, &n)) f.option = static_cast<Fix::Option>(n);
    else if (std::string* field = Field(f, kv.first)) *field = std::string(kv.second);
    else return std::nullopt;
  }
  return f;
}

}  // namespace

const char* LookName(Fix::Look look) {
  switch (look) {
    case Fix::Look::kP2pVerdicts: return "the P2P verdict of each provider and client pair";
    case Fix::Look::kCmbRegisters: return "the controller's CMBLOC and CMBSZ registers";
    case Fix::Look::kNamespaces: return "the namespaces as discovery sees them now";
    case Fix::Look::kErrorLog: return "the controller's Error Information log";
    case Fix::Look::kHealthLog: return "the SMART / Health Information log";
    case Fix::Look::kKernelLog: return "the kernel's messages";
    case Fix::Look::kReservations: return "the namespace's reservation status";
    case Fix::Look::kSanitizeLog: return "the Sanitize Status log";
  }
  return "";
}

Fix SetOption(Fix::Option option, std::string value) {
  return {.kind = Fix::Kind::kSetOption, .option = option, .value = std::move(value)};
}

void AddFix(absl::Status& s, const Fix& fix) {
  if (s.ok()) return;
  absl::optional<absl::Cord> have = s.GetPayload(kUrl);
  std::string text = have ? absl::StrCat(std::string(*have), "\n") : "";
  // The separator is an empty line; fields never hold one.
  s.SetPayload(kUrl, absl::Cord(absl::StrCat(text, Encode(fix))));
}

absl::Status WithFix(absl::Status s, const Fix& fix) {
  AddFix(s, fix);
  return s;
}

std::vector<Fix> FixesOf(const absl::Status& s) {
  std::vector<Fix> out;
  absl::optional<absl::Cord> have = s.GetPayload(kUrl);
  if (!have) return out;
  for (absl::string_view rec : absl::StrSplit(std::string(*have), "\n\n", absl::SkipEmpty()))
    if (std::optional<Fix> f = Decode(rec)) out.push_back(*f);
  return out;
}

absl::Status Reworded(const absl::Status& s, absl::string_view message) {
  absl::Status out(s.code(), message);
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& p) { out.SetPayload(url, p); });
  return out;
}

}  // namespace cmb
