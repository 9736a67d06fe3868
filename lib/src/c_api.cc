// The C API (cmb/cmb.h) over the C++ one: each handle owns its C++ object,
// each call maps absl::Status to 0 or -errno (c_errno.h) and keeps the
// message; a pointer that is not a live handle gets EBADF, never data.
#include "cmb/cmb.h"

#include <cerrno>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cmb/fix.h"
#include "absl/strings/str_format.h"
#include "c_errno.h"
#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/namespace_spec.h"
#include "cmb/nvme_queue.h"

namespace {

thread_local std::string t_error;

int ErrnoOf(const absl::Status& s) { return cmb::internal::NegErrnoOf(s.code()); }

// A fix (cmb/fix.h) in a C caller's terms: what to change, and the man page.
// A request option as a cmb_copier_opts field; "" for the ones the C API
// chooses itself (chunk, depth, method), which a C caller cannot set.
std::string OptionForC(const cmb::Fix& f) {
  switch (f.option) {
    case cmb::Fix::Option::kAllowBounce: return "set opts->allow_bounce to copy through host memory";
    case cmb::Fix::Option::kForce: return "set opts->force, as root (it overrides a safety check; it is not a permission)";
    case cmb::Fix::Option::kVia: return absl::StrCat("set opts->via", f.value.empty() ? "" : " to ", f.value);
    case cmb::Fix::Option::kChunkBytes:
    case cmb::Fix::Option::kQd:
    case cmb::Fix::Option::kMethod: return "";
    case cmb::Fix::Option::kPath:
      return f.value == "block" ? "set CMB_COPIER_PATH_BLOCK in opts->flags"
                                : "set CMB_COPIER_PATH_PASSTHROUGH in opts->flags";
  }
  return "";
}

std::string FixForC(const cmb::Fix& f) {
  switch (f.kind) {
    case cmb::Fix::Kind::kInspect:
      return absl::StrCat("look at ", cmb::LookName(f.look), f.device.empty() ? "" : " of ", f.device);
    case cmb::Fix::Kind::kKernel: return absl::StrCat("needs a kernel with ", f.need, " (cmb(7), KERNEL REQUIREMENTS)");
    case cmb::Fix::Kind::kModuleParameter:
      return absl::StrCat("set module parameter ", f.module, ".", f.parameter, "=", f.value,
                          ", then rebind the device to ", f.module);
    case cmb::Fix::Kind::kBootParameter:
      return absl::StrCat("boot with ", f.module, ".", f.parameter, "=", f.value, " on the kernel command line");
    case cmb::Fix::Kind::kSetOption: return OptionForC(f);
    case cmb::Fix::Kind::kGrantAccess:
      return absl::StrCat("run as root, or have ", f.device, " listed in ", f.list, " for group ", f.group,
                          " (cmb-devices(5))");
  }
  return "";
}

// The message, then each fix in a C caller's terms (those it can act on).
std::string ErrorText(const absl::Status& s) {
  std::string out(s.message());
  for (const cmb::Fix& f : cmb::FixesOf(s))
    if (std::string w = FixForC(f); !w.empty()) absl::StrAppend(&out, "; ", w);
  return out;
}

int Fail(const absl::Status& s, std::string* handle_error = nullptr) {
  t_error = ErrorText(s);
  if (handle_error) *handle_error = t_error;
  return ErrnoOf(s);
}

int Invalid(const char* what) { return Fail(absl::InvalidArgumentError(what)); }

// Keeps the caller's errno across a teardown whose system calls may set it,
// so that after a free/close errno is EBADF only for a bad handle.
class KeepErrno {
 public:
  KeepErrno() : saved_(errno) {}
  ~KeepErrno() { errno = saved_; }
  KeepErrno(const KeepErrno&) = delete;
  KeepErrno& operator=(const KeepErrno&) = delete;

 private:
  int saved_;
};

const cmb::Controller* FindController(const cmb::System& sys, const char* name) {
  for (const cmb::Controller& c : sys.controllers)
    if (c.name == name || (c.address && c.address->ToString() == name)) return &c;
  absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(name);
  return a.ok() ? sys.FindByAddress(*a) : nullptr;
}

// Every live handle is in a registry with its type, so NULL, freed,
// foreign or wrongly typed pointers get EBADF before anything reads
// through them, and a second free reads nothing.
enum : uint32_t { kSystemTag = 1, kBufferTag, kQueueTag, kCopierTag };
std::mutex& RegistryMutex() {
  static std::mutex* mu = new std::mutex;  // never destroyed: handles may outlive static destruction
  return *mu;
}
std::unordered_map<const void*, uint32_t>& Registry() {
  static auto* live = new std::unordered_map<const void*, uint32_t>;
  return *live;
}
template <uint32_t kTag>
struct Tagged {
  static constexpr uint32_t kType = kTag;
  Tagged() {
    std::lock_guard<std::mutex> l(RegistryMutex());
    Registry()[this] = kTag;
  }
  ~Tagged() {
    std::lock_guard<std::mutex> l(RegistryMutex());
    Registry().erase(this);
  }
  Tagged(const Tagged&) = delete;
  Tagged& operator=(const Tagged&) = delete;
};

}  // namespace

struct cmb_system : Tagged<kSystemTag> {
  static constexpr char kName[] = "cmb_system";
  cmb::SysRoot root;
  cmb::System sys;
  std::vector<std::string> addresses;  // per controller, for cmb_controller_info
};
struct cmb_buffer : Tagged<kBufferTag> {
  static constexpr char kName[] = "cmb_buffer";
  explicit cmb_buffer(cmb::DmaBuffer b) : buf(std::move(b)) {}
  cmb::DmaBuffer buf;
};
struct cmb_queue : Tagged<kQueueTag> {
  static constexpr char kName[] = "cmb_queue";
  explicit cmb_queue(cmb::NvmeQueue nq) : q(std::move(nq)) {}
  cmb::NvmeQueue q;
  std::string error;
};
struct cmb_copier : Tagged<kCopierTag> {
  static constexpr char kName[] = "cmb_copier";
  explicit cmb_copier(cmb::Copier cp) : c(std::move(cp)) {}
  cmb::Copier c;
  std::string plan, error;
  std::deque<cmb::CopyCompletion> backlog;  // finished, not yet handed out
  // What the last process/wait handed out: the strings the C structs point at.
  struct Out {
    cmb::CopyCompletion c;
    std::string error;
    std::vector<std::string> errors;
    std::vector<cmb_dst_result> dsts;
  };
  std::deque<Out> out;
};

// False for NULL, and for a pointer that is not a live handle of its type.
// The Tagged base is the first subobject, so the handle's address is its key.
template <typename T>
static bool Live(const T* h) {
  if (h == nullptr) return false;
  std::lock_guard<std::mutex> l(RegistryMutex());
  auto it = Registry().find(static_cast<const void*>(static_cast<const Tagged<T::kType>*>(h)));
  return it != Registry().end() && it->second == T::kType;
}

// 0 for a live handle; else -EBADF, with the message for cmb_last_error().
template <typename T>
static int CheckHandle(const T* h, const char* fn, const char* arg) {
  if (Live(h)) return 0;
  t_error = absl::StrCat(fn, ": ", arg, " is not a live ", T::kName,
                         h == nullptr ? " (it is NULL)" : " (freed or closed already, or another kind of pointer)");
  return -cmb::internal::kBadHandleErrno;
}

// What a call that returns a value, not a status, gives for a bad handle:
// `none` (NULL or 0, which no live handle gives) with errno EBADF.
template <typename R>
static R NoValue(R none) {
  errno = cmb::internal::kBadHandleErrno;
  return none;
}

// Whether a free/close call should go on: NULL is ignored (as by free(3));
// another pointer that is not a live handle sets errno to EBADF.
template <typename T>
static bool Freeable(const T* h, const char* fn, const char* arg) {
  if (h == nullptr) return false;
  if (CheckHandle(h, fn, arg) == 0) return true;
  errno = cmb::internal::kBadHandleErrno;
  return false;
}

extern "C" {

int cmb_version(void) { return CMB_VERSION_MAJOR * 10000 + CMB_VERSION_MINOR * 100 + CMB_VERSION_PATCH; }
const char* cmb_last_error(void) { return t_error.c_str(); }

int cmb_discover(struct cmb_system** out) {
  if (out == nullptr) return Invalid("cmb_discover: sys is NULL");
  auto s = std::make_unique<cmb_system>();
  s->root = cmb::SysRoot::FromEnvironment();
  absl::StatusOr<cmb::System> sys = cmb::Discover(s->root);
  if (!sys.ok()) return Fail(sys.status());
  s->sys = std::move(*sys);
  for (const cmb::Controller& c : s->sys.controllers) s->addresses.push_back(c.address ? c.address->ToString() : "");
  *out = s.release();
  return 0;
}

void cmb_system_free(struct cmb_system* sys) {
  if (!Freeable(sys, __func__, "sys")) return;
  KeepErrno keep;
  delete sys;
}

int cmb_controller_count(const struct cmb_system* sys) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  return static_cast<int>(sys->sys.controllers.size());
}

int cmb_controller_get(const struct cmb_system* sys, unsigned index, struct cmb_controller_info* info) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (info == nullptr) return Invalid("cmb_controller_get: info is NULL");
  if (index >= sys->sys.controllers.size())
    return Fail(absl::OutOfRangeError(absl::StrCat("no controller ", index, " (", sys->sys.controllers.size(), ")")));
  const cmb::Controller& c = sys->sys.controllers[index];
  *info = {};
  info->name = c.name.c_str();
  info->serial = c.serial.c_str();
  info->model = c.model.c_str();
  info->address = sys->addresses[index].c_str();
  info->cmb_bytes = c.cmb ? c.cmb->size_bytes : (c.p2pmem ? c.p2pmem->size_bytes : 0);
  info->p2pmem_available_bytes = c.p2pmem ? c.p2pmem->available_bytes : 0;
  info->p2pmem_published = c.p2pmem && c.p2pmem->published;
  info->namespaces = static_cast<unsigned>(c.namespaces.size());
  return 0;
}

int cmb_namespace_get(const struct cmb_system* sys, unsigned controller, unsigned index,
                      struct cmb_namespace_info* info) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (info == nullptr) return Invalid("cmb_namespace_get: info is NULL");
  if (controller >= sys->sys.controllers.size() || index >= sys->sys.controllers[controller].namespaces.size())
    return Fail(absl::OutOfRangeError(absl::StrCat("no namespace ", index, " on controller ", controller)));
  const cmb::Namespace& n = sys->sys.controllers[controller].namespaces[index];
  *info = {};
  info->name = n.name.c_str();
  info->generic_device = n.generic_device.c_str();
  info->block_device = n.block_device.c_str();
  info->nsid = n.nsid;
  info->lba_size = n.lba_size;
  info->capacity_blocks = n.capacity_blocks;
  info->max_transfer_bytes = n.max_transfer_bytes;
  return 0;
}

int cmb_namespace_find(const struct cmb_system* sys, const char* spec, struct cmb_namespace_info* info) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (spec == nullptr || info == nullptr) return Invalid("cmb_namespace_find: spec or info is NULL");
  absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(sys->root, sys->sys, spec);
  if (!r.ok()) return Fail(r.status());
  const auto& cs = sys->sys.controllers;
  const unsigned c = static_cast<unsigned>(r->controller - cs.data());
  return cmb_namespace_get(sys, c, static_cast<unsigned>(r->ns - cs[c].namespaces.data()), info);
}

int cmb_p2p_alloc(struct cmb_system* sys, const char* provider, size_t bytes, struct cmb_buffer** buf) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (provider == nullptr || buf == nullptr) return Invalid("cmb_p2p_alloc: provider or buf is NULL");
  const cmb::Controller* c = FindController(sys->sys, provider);
  if (c == nullptr || !c->address)
    return Fail(absl::NotFoundError(absl::StrCat("no PCIe NVMe controller '", provider, "'")));
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(sys->root, *c->address, bytes);
  if (!b.ok()) return Fail(cmb::Reworded(b.status(), absl::StrCat(c->name, ": ", b.status().message())));
  *buf = new cmb_buffer(std::move(*b));
  return 0;
}

int cmb_host_alloc(size_t bytes, struct cmb_buffer** buf) {
  if (buf == nullptr) return Invalid("cmb_host_alloc: buf is NULL");
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateHostMem(bytes);
  if (!b.ok()) return Fail(b.status());
  *buf = new cmb_buffer(std::move(*b));
  return 0;
}

void* cmb_buffer_data(const struct cmb_buffer* buf) {
  return CheckHandle(buf, __func__, "buf") ? NoValue<void*>(nullptr) : buf->buf.data();
}
size_t cmb_buffer_size(const struct cmb_buffer* buf) {
  return CheckHandle(buf, __func__, "buf") ? NoValue<size_t>(0) : buf->buf.size();
}
void cmb_buffer_free(struct cmb_buffer* buf) {
  if (!Freeable(buf, __func__, "buf")) return;
  KeepErrno keep;
  delete buf;
}

int cmb_queue_open(struct cmb_system* sys, const char* ns, int writable, struct cmb_queue** q) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (ns == nullptr || q == nullptr) return Invalid("cmb_queue_open: ns or q is NULL");
  absl::StatusOr<cmb::NamespaceRef> ref = cmb::ResolveNamespace(sys->root, sys->sys, ns);
  if (!ref.ok()) return Fail(ref.status());
  absl::StatusOr<cmb::NvmeQueue> nq =
      cmb::NvmeQueue::Open(*ref->ns, {.depth = 1, .writable = writable != 0}, ref->controller->address);
  if (!nq.ok()) return Fail(nq.status());
  *q = new cmb_queue(std::move(*nq));
  return 0;
}

static int QueueIo(struct cmb_queue* q, bool write, uint64_t slba, struct cmb_buffer* buf, size_t offset,
                   size_t bytes) {
  const char* fn = write ? "cmb_queue_write" : "cmb_queue_read";
  if (int rc = CheckHandle(q, fn, "q")) return rc;
  if (int rc = CheckHandle(buf, fn, "buf")) {
    q->error = t_error;
    return rc;
  }
  absl::StatusOr<cmb::DmaSpan> span = buf->buf.Slice(offset, bytes);
  if (!span.ok()) return Fail(span.status(), &q->error);
  absl::Status s = write ? q->q.Write(slba, *span, 0) : q->q.Read(slba, *span, 0);
  if (!s.ok()) return Fail(s, &q->error);
  absl::StatusOr<cmb::Completion> c = q->q.Wait();
  if (!c.ok()) return Fail(c.status(), &q->error);
  if (!c->status.ok()) return Fail(c->status, &q->error);
  return 0;
}

int cmb_queue_read(struct cmb_queue* q, uint64_t slba, struct cmb_buffer* buf, size_t offset, size_t bytes) {
  return QueueIo(q, false, slba, buf, offset, bytes);
}
int cmb_queue_write(struct cmb_queue* q, uint64_t slba, struct cmb_buffer* buf, size_t offset, size_t bytes) {
  return QueueIo(q, true, slba, buf, offset, bytes);
}
const char* cmb_queue_error(const struct cmb_queue* q) {
  return CheckHandle(q, __func__, "q") ? NoValue<const char*>(nullptr) : q->error.c_str();
}
void cmb_queue_close(struct cmb_queue* q) {
  if (!Freeable(q, __func__, "q")) return;
  KeepErrno keep;
  delete q;
}

}  // extern "C"

namespace {

// cmb_copier_plan's line: "p2p through 0000:03:00.0, chunk 524288 bytes, qd
// 16, 1 destination(s), paths nvme1n1 passthrough nvme2n1 block".
std::string PlanLine(const cmb::CopyPlan& plan) {
  std::string via;  // striped: every CMB, joined by +
  for (const cmb::PciAddress& a : plan.cmbs()) absl::StrAppend(&via, via.empty() ? " through " : "+", a.ToString());
  std::string paths = absl::StrCat(plan.src.ns.name, " ", cmb::DataPathName(plan.src.path));
  for (const cmb::CopyEnd* e : plan.destinations())
    absl::StrAppend(&paths, " ", e->ns.name, " ", cmb::DataPathName(e->path));
  return absl::StrFormat("%s%s, chunk %u bytes, qd %u, %u destination(s), paths %s", cmb::CopyMethodName(plan.method),
                         via, plan.chunk_bytes, plan.qd, plan.destinations().size(), paths);
}

}  // namespace

extern "C" {

int cmb_copier_open(struct cmb_system* sys, const char* src, const char* const* dsts, unsigned ndst,
                    const struct cmb_copier_opts* opts, struct cmb_copier** c) {
  if (int rc = CheckHandle(sys, __func__, "sys")) return rc;
  if (src == nullptr || c == nullptr || (ndst > 0 && dsts == nullptr))
    return Invalid("cmb_copier_open: src, dsts or c is NULL");
  if (ndst == 0) return Invalid("cmb_copier_open: no destination (ndst is 0)");
  const cmb_copier_opts o = opts ? *opts : cmb_copier_opts{};
  for (uint64_t r : o.reserved)
    if (r != 0) return Invalid("cmb_copier_open: opts->reserved must be zero (from a newer cmb.h?)");
  constexpr uint64_t kPaths = CMB_COPIER_PATH_PASSTHROUGH | CMB_COPIER_PATH_BLOCK;
  constexpr uint64_t kFlags = CMB_COPIER_STRIPE | CMB_COPIER_SQPOLL | CMB_COPIER_POLL | kPaths;
  if (o.flags & ~kFlags) return Invalid("cmb_copier_open: unknown bits in opts->flags (from a newer cmb.h?)");
  if ((o.flags & kPaths) == kPaths)
    return Invalid("cmb_copier_open: opts->flags has both CMB_COPIER_PATH_PASSTHROUGH and CMB_COPIER_PATH_BLOCK");
  cmb::CopyRequest req;
  req.stripe = (o.flags & CMB_COPIER_STRIPE) != 0;
  if (o.flags & CMB_COPIER_PATH_BLOCK) req.path = cmb::DataPath::kBlock;
  if (o.flags & CMB_COPIER_PATH_PASSTHROUGH) req.path = cmb::DataPath::kPassthrough;
  if (o.plan_bytes) req.bytes = o.plan_bytes;
  if (o.via != nullptr) {
    const cmb::Controller* v = FindController(sys->sys, o.via);
    if (v == nullptr || !v->address) return Fail(absl::NotFoundError(absl::StrCat("opts->via '", o.via, "': no such controller")));
    req.via = v->address;
  }
  req.allow_bounce = o.allow_bounce != 0;
  req.force = o.force != 0;
  std::vector<std::string> names;
  for (unsigned i = 0; i < ndst; ++i) {
    if (dsts[i] == nullptr) return Invalid("cmb_copier_open: a destination is NULL");
    names.emplace_back(dsts[i]);
  }
  absl::StatusOr<cmb::Copier> cp = cmb::Copier::Open(
      sys->root, sys->sys, src, names, req,
      {.rate_bytes_per_s = o.rate_bytes_per_s,
       .stop_on_dst_failure = o.stop_on_dst_failure != 0,
       .sqpoll = (o.flags & CMB_COPIER_SQPOLL) != 0,
       .poll_completions = (o.flags & CMB_COPIER_POLL) != 0});
  if (!cp.ok()) return Fail(cp.status());
  const cmb::CopyPlan& plan = cp->plan();
  auto h = std::make_unique<cmb_copier>(std::move(*cp));
  h->plan = PlanLine(plan);
  *c = h.release();
  return 0;
}

const char* cmb_copier_plan(const struct cmb_copier* c) {
  return CheckHandle(c, __func__, "c") ? NoValue<const char*>(nullptr) : c->plan.c_str();
}
const char* cmb_copier_error(const struct cmb_copier* c) {
  return CheckHandle(c, __func__, "c") ? NoValue<const char*>(nullptr) : c->error.c_str();
}
int cmb_copier_event_fd(const struct cmb_copier* c) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  return c->c.poll_fd();
}

}  // extern "C"

// Request id's prefix: from the completions process/wait took from the
// Copier and have not handed out yet (the Copier no longer knows them), or
// from the Copier. Empty for an id that is neither.
static std::optional<uint64_t> ProgressOf(const struct cmb_copier* c, uint64_t id) {
  for (const cmb::CopyCompletion& x : c->backlog)
    if (x.id == id) return x.prefix_bytes();
  if (!c->c.Pending(id)) return std::nullopt;
  return c->c.Progress(id);
}

extern "C" {

uint64_t cmb_copier_progress(const struct cmb_copier* c, uint64_t id) {
  if (CheckHandle(c, __func__, "c")) return NoValue<uint64_t>(0);
  return ProgressOf(c, id).value_or(0);
}

int cmb_copier_progress_get(const struct cmb_copier* c, uint64_t id, uint64_t* bytes) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  if (bytes == nullptr) return Invalid("cmb_copier_progress_get: bytes is NULL");
  std::optional<uint64_t> p = ProgressOf(c, id);
  if (!p)
    return Fail(absl::NotFoundError(
        absl::StrCat("request ", id, " is not pending (never submitted, or its completion was returned already)")));
  *bytes = *p;
  return 0;
}

int cmb_copier_submit(struct cmb_copier* c, const struct cmb_extent* extents, size_t n, uint64_t* id) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  if (id == nullptr || (n > 0 && extents == nullptr)) return Invalid("cmb_copier_submit: extents or id is NULL");
  std::vector<cmb::Extent> ext;
  for (size_t i = 0; i < n; ++i) ext.push_back({extents[i].src_lba, extents[i].dst_lba, extents[i].count});
  absl::StatusOr<uint64_t> r = c->c.Submit(std::move(ext));
  if (!r.ok()) return Fail(r.status(), &c->error);
  *id = *r;
  return 0;
}

int cmb_copier_cancel(struct cmb_copier* c, uint64_t id) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  absl::Status s = c->c.Cancel(id);
  return s.ok() ? 0 : Fail(s, &c->error);
}

}  // extern "C"

// Fills `d` from a finished request; the strings live in c->out until the next call.
static void HandOut(struct cmb_copier* c, cmb::CopyCompletion done, struct cmb_completion* d) {
  cmb_copier::Out& o = c->out.emplace_back();
  o.c = std::move(done);
  o.error = ErrorText(o.c.status);
  for (const cmb::DstCompletion& x : o.c.dsts) o.errors.push_back(ErrorText(x.status));
  for (size_t i = 0; i < o.c.dsts.size(); ++i) {
    const cmb::DstCompletion& x = o.c.dsts[i];
    o.dsts.push_back({x.name.c_str(), ErrnoOf(x.status), o.errors[i].c_str(), x.prefix_bytes, x.bytes_written,
                      x.flushed ? 1 : 0, {}});
  }
  *d = {o.c.id, ErrnoOf(o.c.status), o.error.c_str(), o.c.cancelled ? 1 : 0, o.c.bytes_total, o.c.prefix_bytes(),
        static_cast<unsigned>(o.dsts.size()), o.dsts.data(), {}};
  if (!o.c.status.ok()) c->error = o.error;
}

extern "C" {

int cmb_copier_process(struct cmb_copier* c, struct cmb_completion* done, unsigned max) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  if (max > 0 && done == nullptr) return Invalid("cmb_copier_process: done is NULL");
  c->out.clear();
  for (cmb::CopyCompletion& x : c->c.Process()) c->backlog.push_back(std::move(x));
  unsigned n = 0;
  for (; n < max && !c->backlog.empty(); ++n) {
    HandOut(c, std::move(c->backlog.front()), &done[n]);
    c->backlog.pop_front();
  }
  if (!c->backlog.empty()) c->c.Notify();  // the rest on the next call
  return static_cast<int>(n);
}

int cmb_copier_wait(struct cmb_copier* c, uint64_t id, int timeout_ms, struct cmb_completion* done) {
  if (int rc = CheckHandle(c, __func__, "c")) return rc;
  if (done == nullptr) return Invalid("cmb_copier_wait: done is NULL");
  c->out.clear();
  for (auto it = c->backlog.begin(); it != c->backlog.end(); ++it)
    if (it->id == id) {
      HandOut(c, std::move(*it), done);
      c->backlog.erase(it);
      return 0;
    }
  std::optional<std::chrono::milliseconds> t;
  if (timeout_ms >= 0) t = std::chrono::milliseconds(timeout_ms);
  absl::StatusOr<cmb::CopyCompletion> r = c->c.Wait(id, t);
  if (!r.ok()) return Fail(r.status(), &c->error);
  HandOut(c, std::move(*r), done);
  return 0;
}

void cmb_copier_close(struct cmb_copier* c) {
  if (!Freeable(c, __func__, "c")) return;
  KeepErrno keep;
  c->c.Close();
  delete c;
}

}  // extern "C"
