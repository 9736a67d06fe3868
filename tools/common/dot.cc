// The Graphviz graph of cmbinfo -o dot (dot.h): one line per node and edge.
#include "dot.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "report.h"

namespace cmbtools {
namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when invalid (overlong
// forms, surrogates and code points past U+10FFFF included).
size_t Utf8Length(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) { return b(k) >= lo && b(k) <= hi; };
  unsigned c = b(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    bool second = c == 0xe0 ? cont(1, 0xa0) : c == 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return second && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    bool second = c == 0xf0 ? cont(1, 0x90) : c == 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return second && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// One label of lines, each escaped, joined by DOT's centred line break.
std::string Label(const std::vector<std::string>& lines) {
  std::vector<std::string> escaped;
  for (const std::string& l : lines)
    if (!l.empty()) escaped.push_back(DotEscape(l));
  return absl::StrJoin(escaped, "\\n");
}

std::string Quote(const std::string& id) { return absl::StrCat("\"", DotEscape(id), "\""); }

std::string CmbId(const std::string& controller_id) { return "cmb:" + controller_id; }

// The arrow's colour and line for a verdict.
const char* VerdictColor(cmb::PathVerdict v) {
  switch (v) {
    case cmb::PathVerdict::kSwitch: return "#2e7d32";
    case cmb::PathVerdict::kHostBridge: return "#1565c0";
    case cmb::PathVerdict::kUnsupported: return "#c62828";
    case cmb::PathVerdict::kUnknown: return "#ef6c00";
  }
  return "#ef6c00";
}

std::string TreeNodeLine(const TreeNode& n) {
  std::vector<std::string> lines;
  std::string attrs;
  if (n.kind == NodeKind::kHostBridge) {
    lines = {n.id, n.function ? absl::StrCat("host bridge ", n.function->ToString()) : "host bridge", n.label};
    attrs = "style=\"rounded,filled\", fillcolor=\"#eeeeee\"";
  } else if (n.kind == NodeKind::kBridge) {
    std::string port = PortTypeText(n.port_type);
    lines = {n.id, n.label, absl::StrCat(port, port.empty() ? "" : ", ", AcsText(n.acs))};
    attrs = "style=rounded";
  } else {
    const cmb::Controller& c = *n.controller;
    lines = {absl::StrCat(c.name, "  ", c.address ? c.address->ToString() : c.transport), c.model, n.label};
    attrs = "style=\"rounded,filled\", fillcolor=\"#e3f2fd\"";
  }
  return absl::StrFormat("  %s [label=\"%s\", %s];\n", Quote(n.id), Label(lines), attrs);
}

std::string CmbLine(const TreeNode& n, const cmb::Controller& c) {
  std::string regs = c.cmb ? absl::StrFormat("CMB %s in BAR%u", HumanBytes(c.cmb->size_bytes), c.cmb->loc.bir)
                           : "CMB (registers not shown)";
  std::string pool = !c.p2pmem ? "no p2pmem"
                     : c.p2pmem->published
                         ? absl::StrCat("p2pmem published, ", HumanBytes(c.p2pmem->available_bytes), " free")
                         : "p2pmem not published";
  return absl::StrFormat("  %s [label=\"%s\", shape=component, style=filled, fillcolor=\"#fff3e0\"];\n"
                         "  %s -> %s [arrowhead=none, style=dashed, color=gray50];\n",
                         Quote(CmbId(n.id)), Label({regs, pool}), Quote(n.id), Quote(CmbId(n.id)));
}

std::string NamespaceLines(const TreeNode& n, const cmb::Controller& c) {
  std::string out;
  for (const cmb::Namespace& ns : c.namespaces) {
    std::string id = "ns:" + ns.name;
    std::vector<std::string> lines = {
        absl::StrFormat("%s (nsid %u)", ns.name, ns.nsid), ns.generic_device,
        absl::StrFormat("%s, %u B LBAs", HumanBytes(ns.capacity_blocks * ns.lba_size), ns.lba_size),
        ns.in_use() ? "in use" : ""};
    absl::StrAppendFormat(&out, "  %s [label=\"%s\", shape=cylinder];\n  %s -> %s [arrowhead=none, color=gray50];\n",
                          Quote(id), Label(lines), Quote(n.id), Quote(id));
  }
  return out;
}

std::string P2pEdge(const cmb::P2pPath& p) {
  std::string client = p.client.ToString(), provider = p.provider.ToString();
  std::string label = absl::StrFormat("%s (%d)%s", cmb::PathVerdictName(p.verdict), p.distance,
                                      p.provider == p.client ? ", own CMB" : "");
  return absl::StrFormat(
      "  %s -> %s [label=\"%s\", color=\"%s\", fontcolor=\"%s\", penwidth=2%s, constraint=false];\n",
      Quote(CmbId(provider)), Quote(client), DotEscape(label), VerdictColor(p.verdict), VerdictColor(p.verdict),
      p.verdict == cmb::PathVerdict::kUnknown ? ", style=dashed" : "");
}

std::string Header(const cmb::System& sys) {
  std::string title = absl::StrCat("NVMe CMBs and P2P verdicts: ", sys.rules.Describe());
  std::string key = "arrow from a CMB to the client that DMAs into it: green switch, blue host bridge, "
                    "red unsupported, orange unknown";
  return absl::StrFormat(
      "digraph cmb {\n"
      "  graph [fontname=\"Helvetica\", fontsize=11, labelloc=t, label=\"%s\", nodesep=0.3];\n"
      "  node [fontname=\"Helvetica\", fontsize=9, shape=box];\n"
      "  edge [fontname=\"Helvetica\", fontsize=8];\n",
      Label({title, key}));
}

}  // namespace

std::string DotEscape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {
      out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
      ++i;
    } else if (size_t n = Utf8Length(s, i)) {
      out.append(s, i, n);
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string ToDot(const PciTree& tree, const cmb::System& sys, const std::vector<cmb::P2pPath>& paths) {
  std::string out = Header(sys);
  for (const TreeNode& n : tree.nodes) {
    out += TreeNodeLine(n);
    if (!n.parent.empty())
      absl::StrAppendFormat(&out, "  %s -> %s [arrowhead=none, color=gray50];\n", Quote(n.parent), Quote(n.id));
    if (!n.controller) continue;
    if (n.controller->cmb || n.controller->p2pmem) out += CmbLine(n, *n.controller);
    out += NamespaceLines(n, *n.controller);
  }
  for (const cmb::P2pPath& p : paths) out += P2pEdge(p);
  out += "}\n";
  return out;
}

}  // namespace cmbtools
