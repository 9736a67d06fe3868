// The C API (cmb/cmb.h) over the C++ one: each handle owns its C++ object,
// each call maps absl::Status to 0 or -errno and keeps the message.
#include "cmb/cmb.h"

#include <cerrno>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/namespace_spec.h"
#include "cmb/nvme_queue.h"

namespace {

thread_local std::string t_error;

int ErrnoOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kInvalidArgument: return -EINVAL;
    case absl::StatusCode::kNotFound: return -ENOENT;
    case absl::StatusCode::kOutOfRange: return -ERANGE;
    case absl::StatusCode::kFailedPrecondition: return -EPERM;
    case absl::StatusCode::kPermissionDenied: return -EACCES;
    case absl::StatusCode::kResourceExhausted: return -ENOSPC;
    case absl::StatusCode::kCancelled: return -ECANCELED;
    case absl::StatusCode::kDeadlineExceeded: return -ETIMEDOUT;
    case absl::StatusCode::kUnimplemented: return -EOPNOTSUPP;
    case absl::StatusCode::kAlreadyExists: return -EEXIST;
    case absl::StatusCode::kUnavailable: return -EAGAIN;
    default: return -EIO;
  }
}

int Fail(const absl::Status& s, std::string* handle_error = nullptr) {
  t_error = std::string(s.message());
  if (handle_error) *handle_error = t_error;
  return ErrnoOf(s);
}

int Invalid(const char* what) { return Fail(absl::InvalidArgumentError(what)); }

const cmb::Controller* FindController(const cmb::System& sys, const char* name) {
  for (const cmb::Controller& c : sys.controllers)
    if (c.name == name || (c.address && c.address->ToString() == name)) return &c;
  absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(name);
  return a.ok() ? sys.FindByAddress(*a) : nullptr;
}

// Every live handle is in a registry with its type, so NULL, freed,
// foreign or wrongly typed pointers get -EINVAL before anything reads
// through them, and a second free is ignored.
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
  cmb::SysRoot root;
  cmb::System sys;
  std::vector<std::string> addresses;  // per controller, for cmb_controller_info
};
struct cmb_buffer : Tagged<kBufferTag> {
  explicit cmb_buffer(cmb::DmaBuffer b) : buf(std::move(b)) {}
  cmb::DmaBuffer buf;
};
struct cmb_queue : Tagged<kQueueTag> {
  explicit cmb_queue(cmb::NvmeQueue nq) : q(std::move(nq)) {}
  cmb::NvmeQueue q;
  std::string error;
};
struct cmb_copier : Tagged<kCopierTag> {
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
  if (Live(sys)) delete sys;
}

int cmb_controller_count(const struct cmb_system* sys) {
  if (!Live(sys)) return Invalid("cmb_controller_count: sys is NULL or not a cmb_system");
  return static_cast<int>(sys->sys.controllers.size());
}

int cmb_controller_get(const struct cmb_system* sys, unsigned index, struct cmb_controller_info* info) {
  if (!Live(sys) || info == nullptr) return Invalid("cmb_controller_get: sys or info is NULL");
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
  if (!Live(sys) || info == nullptr) return Invalid("cmb_namespace_get: sys or info is NULL");
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
  if (!Live(sys) || spec == nullptr || info == nullptr) return Invalid("cmb_namespace_find: NULL argument or not a live handle");
  absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(sys->root, sys->sys, spec);
  if (!r.ok()) return Fail(r.status());
  const auto& cs = sys->sys.controllers;
  const unsigned c = static_cast<unsigned>(r->controller - cs.data());
  return cmb_namespace_get(sys, c, static_cast<unsigned>(r->ns - cs[c].namespaces.data()), info);
}

int cmb_p2p_alloc(struct cmb_system* sys, const char* provider, size_t bytes, struct cmb_buffer** buf) {
  if (!Live(sys) || provider == nullptr || buf == nullptr) return Invalid("cmb_p2p_alloc: NULL argument or not a live handle");
  const cmb::Controller* c = FindController(sys->sys, provider);
  if (c == nullptr || !c->address)
    return Fail(absl::NotFoundError(absl::StrCat("no PCIe NVMe controller '", provider, "'")));
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(sys->root, *c->address, bytes);
  if (!b.ok()) return Fail(absl::Status(b.status().code(), absl::StrCat(c->name, ": ", b.status().message())));
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

void* cmb_buffer_data(const struct cmb_buffer* buf) { return Live(buf) ? buf->buf.data() : nullptr; }
size_t cmb_buffer_size(const struct cmb_buffer* buf) { return Live(buf) ? buf->buf.size() : 0; }
void cmb_buffer_free(struct cmb_buffer* buf) {
  if (Live(buf)) delete buf;
}

int cmb_queue_open(struct cmb_system* sys, const char* ns, int writable, struct cmb_queue** q) {
  if (!Live(sys) || ns == nullptr || q == nullptr) return Invalid("cmb_queue_open: NULL argument or not a live handle");
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
  if (!Live(q) || !Live(buf)) return Invalid(write ? "cmb_queue_write: NULL argument" : "cmb_queue_read: NULL argument or not a live handle");
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
const char* cmb_queue_error(const struct cmb_queue* q) { return Live(q) ? q->error.c_str() : ""; }
void cmb_queue_close(struct cmb_queue* q) {
  if (Live(q)) delete q;
}

}  // extern "C"

extern "C" {

int cmb_copier_open(struct cmb_system* sys, const char* src, const char* const* dsts, unsigned ndst,
                    const struct cmb_copier_opts* opts, struct cmb_copier** c) {
  if (!Live(sys) || src == nullptr || c == nullptr || (ndst > 0 && dsts == nullptr))
    return Invalid("cmb_copier_open: NULL argument or not a live handle");
  if (ndst == 0) return Invalid("cmb_copier_open: no destination (ndst is 0)");
  const cmb_copier_opts o = opts ? *opts : cmb_copier_opts{};
  for (uint64_t r : o.reserved)
    if (r != 0) return Invalid("cmb_copier_open: opts->reserved must be zero (from a newer cmb.h?)");
  constexpr uint64_t kFlags = CMB_COPIER_STRIPE | CMB_COPIER_SQPOLL | CMB_COPIER_POLL;
  if (o.flags & ~kFlags) return Invalid("cmb_copier_open: unknown bits in opts->flags (from a newer cmb.h?)");
  cmb::CopyRequest req;
  req.stripe = (o.flags & CMB_COPIER_STRIPE) != 0;
  if (o.plan_bytes) req.bytes = o.plan_bytes;
  if (o.via != nullptr) {
    const cmb::Controller* v = FindController(sys->sys, o.via);
    if (v == nullptr || !v->address) return Fail(absl::NotFoundError(absl::StrCat("`via` '", o.via, "': no such controller")));
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
  std::string via;  // striped: every CMB, joined by +
  for (const cmb::PciAddress& a : plan.cmbs()) absl::StrAppend(&via, via.empty() ? " through " : "+", a.ToString());
  h->plan = absl::StrFormat("%s%s, chunk %u bytes, qd %u, %u destination(s)", cmb::CopyMethodName(plan.method), via,
                            plan.chunk_bytes, plan.qd, plan.destinations().size());
  *c = h.release();
  return 0;
}

const char* cmb_copier_plan(const struct cmb_copier* c) { return Live(c) ? c->plan.c_str() : ""; }
const char* cmb_copier_error(const struct cmb_copier* c) { return Live(c) ? c->error.c_str() : ""; }
int cmb_copier_event_fd(const struct cmb_copier* c) { return Live(c) ? c->c.event_fd() : Invalid("cmb_copier_event_fd: NULL"); }
uint64_t cmb_copier_progress(const struct cmb_copier* c, uint64_t id) { return Live(c) ? c->c.Progress(id) : 0; }

int cmb_copier_submit(struct cmb_copier* c, const struct cmb_extent* extents, size_t n, uint64_t* id) {
  if (!Live(c) || id == nullptr || (n > 0 && extents == nullptr)) return Invalid("cmb_copier_submit: NULL argument or not a live handle");
  std::vector<cmb::Extent> ext;
  for (size_t i = 0; i < n; ++i) ext.push_back({extents[i].src_lba, extents[i].dst_lba, extents[i].count});
  absl::StatusOr<uint64_t> r = c->c.Submit(std::move(ext));
  if (!r.ok()) return Fail(r.status(), &c->error);
  *id = *r;
  return 0;
}

int cmb_copier_cancel(struct cmb_copier* c, uint64_t id) {
  if (!Live(c)) return Invalid("cmb_copier_cancel: NULL");
  absl::Status s = c->c.Cancel(id);
  return s.ok() ? 0 : Fail(s, &c->error);
}

}  // extern "C"

// Fills `d` from a finished request; the strings live in c->out until the next call.
static void HandOut(struct cmb_copier* c, cmb::CopyCompletion done, struct cmb_completion* d) {
  cmb_copier::Out& o = c->out.emplace_back();
  o.c = std::move(done);
  o.error = std::string(o.c.status.message());
  for (const cmb::DstCompletion& x : o.c.dsts) o.errors.emplace_back(x.status.message());
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
  if (!Live(c) || (max > 0 && done == nullptr)) return Invalid("cmb_copier_process: NULL argument or not a live handle");
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
  if (!Live(c) || done == nullptr) return Invalid("cmb_copier_wait: NULL argument or not a live handle");
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
  if (!Live(c)) return;
  c->c.Close();
  delete c;
}

}  // extern "C"
