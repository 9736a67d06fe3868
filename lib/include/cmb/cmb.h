/* cmb.h: the stable C API of libcmb, for C, Rust, Go, Python (ctypes) and
 * anything else with a C FFI. Opaque handles for discovery, P2P buffers,
 * queues and copiers; every fallible call returns 0 (or a count) or a
 * negative errno, and the reason is a message: cmb_last_error() for this
 * thread's last failed call, cmb_copier_error()/cmb_queue_error() for a
 * handle's. One man page per function (cmb_discover(3), ...); the ABI policy
 * is in docs/abi.md.
 *
 *   struct cmb_system *sys;
 *   struct cmb_copier *c;
 *   const char *dsts[] = {"nvme2:1", "nvme3:1"};
 *   struct cmb_extent e = {.src_lba = 0, .dst_lba = 0, .count = 2048};
 *   struct cmb_completion done;
 *   uint64_t id;
 *   if (cmb_discover(&sys) < 0) errx(1, "%s", cmb_last_error());
 *   if (cmb_copier_open(sys, "nvme1:1", dsts, 2, NULL, &c) < 0) errx(1, "%s", cmb_last_error());
 *   if (cmb_copier_submit(c, &e, 1, &id) < 0 || cmb_copier_wait(c, id, -1, &done) < 0 || done.status < 0)
 *     errx(1, "%s", cmb_copier_error(c));
 *   cmb_copier_close(c);
 *   cmb_system_free(sys);
 *
 * Errors (0 or -errno, as liburing and libnvme). The C++ library's status
 * codes map to errnos by one table; the message says the cause and the fix:
 *   InvalidArgument     -EINVAL     bad argument or malformed request
 *   NotFound            -ENOENT     no such device, namespace or request
 *   OutOfRange          -ERANGE     beyond a namespace's or a buffer's end
 *   PermissionDenied    -EACCES     no permission (the kernel's EPERM too)
 *   FailedPrecondition  -EOPNOTSUPP this system cannot do it as it is: no P2P
 *                                   path the kernel allows, a kernel, device or
 *                                   driver feature missing, a destination in use
 *                                   (refused for safety; `force`), overlapping
 *                                   extents
 *   Unimplemented       -EOPNOTSUPP not supported (a kernel feature, NVMe command)
 *   ResourceExhausted   -ENOSPC     the CMB (or memory) is too full
 *   Cancelled           -ECANCELED  cancelled
 *   DeadlineExceeded    -ETIMEDOUT  a wait timed out
 *   Unavailable         -EAGAIN     a temporary device condition (retry later)
 *   AlreadyExists       -EEXIST     already exists
 *   Aborted, DataLoss, Internal, Unknown
 *                       -EIO        an I/O error (an NVMe status is in the message)
 * EPERM is never returned (until 0.3 FailedPrecondition was -EPERM).
 *
 * Invalid handles: a handle argument that is NULL, freed or closed already,
 * or not a handle of its type is never read and never answered with data.
 * Calls returning int return -EBADF for it (no other failure is -EBADF; a
 * bad handle is checked before the other arguments, and a NULL out-pointer is
 * -EINVAL). Calls returning a value return NULL (pointers, strings) or 0
 * (a size, a progress) and set errno to EBADF; a live handle never gives NULL
 * or a 0 size, and cmb_copier_progress_get() tells a bad handle from 0 bytes.
 * The free/close calls ignore NULL (as free(3)) and set errno to EBADF for
 * another pointer that is no handle; after freeing a live one, errno is as it
 * was. cmb_last_error() names the call and argument in every case. A freed
 * handle is recognised as long as no new handle of its type reuses its
 * memory, so this is a diagnostic, not a licence to use freed handles.
 *
 * Threads: a handle is used by one thread at a time; different handles may be
 * used from different threads at once. Lifetimes: a handle made from a
 * cmb_system copies what it needs, so the system may be freed first.
 */
#ifndef CMB_CMB_H
#define CMB_CMB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CMB_VERSION_MAJOR 0
#define CMB_VERSION_MINOR 2
#define CMB_VERSION_PATCH 0
/* True when the headers are at least MAJOR.MINOR. */
#define CMB_VERSION_AT_LEAST(major, minor) \
  (CMB_VERSION_MAJOR > (major) || (CMB_VERSION_MAJOR == (major) && CMB_VERSION_MINOR >= (minor)))

/* The loaded library's version: MAJOR * 10000 + MINOR * 100 + PATCH. */
int cmb_version(void);
/* This thread's last failed call's message ("" when none); valid until its next failed call. */
const char *cmb_last_error(void);

/* --- Discovery: a snapshot of the machine's NVMe controllers and CMBs. --- */
struct cmb_system;

struct cmb_controller_info {
  const char *name;    /* "nvme0" */
  const char *serial;
  const char *model;
  const char *address; /* PCI address "0000:03:00.0", "" when not PCIe */
  uint64_t cmb_bytes;  /* 0: no CMB */
  uint64_t p2pmem_available_bytes;
  int p2pmem_published; /* 1: its CMB is P2P memory others can use */
  unsigned namespaces;
  uint64_t reserved[4];
};

struct cmb_namespace_info {
  const char *name;           /* "nvme0n1" */
  const char *generic_device; /* "/dev/ng0n1", "" when none */
  const char *block_device;   /* "/dev/nvme0n1" */
  uint32_t nsid, lba_size;
  uint64_t capacity_blocks;
  uint64_t max_transfer_bytes;
  uint64_t reserved[4];
};

int cmb_discover(struct cmb_system **sys);
void cmb_system_free(struct cmb_system *sys);
/* The number of controllers, or -EBADF. */
int cmb_controller_count(const struct cmb_system *sys);
/* Strings stay valid while sys lives. */
int cmb_controller_get(const struct cmb_system *sys, unsigned index, struct cmb_controller_info *info);
int cmb_namespace_get(const struct cmb_system *sys, unsigned controller, unsigned index,
                      struct cmb_namespace_info *info);
/* The namespace `spec` names ("nvme1:1", "/dev/ng1n1", "/dev/nvme1n1", "0000:04:00.0:1"). */
int cmb_namespace_find(const struct cmb_system *sys, const char *spec, struct cmb_namespace_info *info);

/* --- Buffers for I/O: P2P memory in a CMB, or page-aligned host memory. --- */
struct cmb_buffer;

/* `provider`: the CMB's controller, as "nvme0" or its PCI address. */
int cmb_p2p_alloc(struct cmb_system *sys, const char *provider, size_t bytes, struct cmb_buffer **buf);
int cmb_host_alloc(size_t bytes, struct cmb_buffer **buf);
/* The first byte; NULL with errno EBADF for a bad handle. */
void *cmb_buffer_data(const struct cmb_buffer *buf);
/* The size in bytes (never 0); 0 with errno EBADF for a bad handle. */
size_t cmb_buffer_size(const struct cmb_buffer *buf);
void cmb_buffer_free(struct cmb_buffer *buf);

/* --- Queues: NVMe reads and writes through /dev/ngXnY (io_uring passthrough). --- */
struct cmb_queue;

/* `ns`: "nvme1:1", "/dev/ng1n1", "/dev/nvme1n1" or "0000:04:00.0:1". */
int cmb_queue_open(struct cmb_system *sys, const char *ns, int writable, struct cmb_queue **q);
/* Moves `bytes` (whole LBAs) between LBA `slba` and buf at `offset` (page aligned); waits for it. */
int cmb_queue_read(struct cmb_queue *q, uint64_t slba, struct cmb_buffer *buf, size_t offset, size_t bytes);
int cmb_queue_write(struct cmb_queue *q, uint64_t slba, struct cmb_buffer *buf, size_t offset, size_t bytes);
/* The last failed call's message ("" when none); NULL with errno EBADF for a bad handle. */
const char *cmb_queue_error(const struct cmb_queue *q);
void cmb_queue_close(struct cmb_queue *q);

/* --- Copiers: asynchronous extent copies, to one destination or several. --- */
struct cmb_copier;

struct cmb_copier_opts {
  const char *via;            /* the CMB ("nvme0" or a PCI address); NULL: the planner picks */
  int allow_bounce;           /* copy through host memory when no CMB path exists */
  int force;                  /* write to a destination in use; no exclusive hold */
  int stop_on_dst_failure;    /* a failing destination fails the request, not only itself */
  uint64_t rate_bytes_per_s;  /* 0: no limit */
  uint64_t plan_bytes;        /* the size the plan is made for (chunk, depth); 0: the smallest namespace */
  uint64_t flags;             /* CMB_COPIER_* below, or 0; other bits: -EINVAL (was reserved: old callers pass 0) */
  uint64_t reserved[3];       /* zero (-EINVAL otherwise) */
};
#define CMB_COPIER_STRIPE (1u << 0) /* spread chunks over every third-party CMB that all ends reach */
#define CMB_COPIER_SQPOLL (1u << 1) /* IORING_SETUP_SQPOLL rings: a kernel thread submits */
#define CMB_COPIER_POLL (1u << 2)   /* polled completions (IORING_SETUP_IOPOLL); needs nvme poll queues */
/* Every end's data path (at most one of the two; neither: the planner picks per end, cmbcp(1) --path):
 * NVMe passthrough on /dev/ngXnY, or O_DIRECT reads and writes on the block device /dev/nvmeXnY. */
#define CMB_COPIER_PATH_PASSTHROUGH (1u << 3)
#define CMB_COPIER_PATH_BLOCK (1u << 4)

struct cmb_extent {
  uint64_t src_lba, dst_lba;
  uint64_t count; /* source LBAs */
};

struct cmb_dst_result {
  const char *name;  /* "nvme2n1" */
  int status;        /* 0 or -errno */
  const char *error; /* "" when status is 0 */
  uint64_t prefix_bytes, bytes_written;
  int flushed;
  uint64_t reserved[4];
};

struct cmb_completion {
  uint64_t id;
  int status;        /* 0 when every destination holds every byte; else -errno */
  const char *error; /* "" when status is 0 */
  int cancelled;
  uint64_t bytes_total;
  uint64_t prefix_bytes; /* the smallest destination prefix */
  unsigned ndst;
  const struct cmb_dst_result *dsts; /* valid until the next process/wait/close on the copier */
  uint64_t reserved[4];
};

/* Plans src -> dsts (ndst >= 1) and opens the copier; opts may be NULL. */
int cmb_copier_open(struct cmb_system *sys, const char *src, const char *const *dsts, unsigned ndst,
                    const struct cmb_copier_opts *opts, struct cmb_copier **c);
/* A one-line description of the plan: method, CMB, chunk, depth. Valid while c lives;
 * NULL with errno EBADF for a bad handle. */
const char *cmb_copier_plan(const struct cmb_copier *c);
int cmb_copier_submit(struct cmb_copier *c, const struct cmb_extent *extents, size_t n, uint64_t *id);
int cmb_copier_cancel(struct cmb_copier *c, uint64_t id);
/* Readable when cmb_copier_process has work (a completion, a request submitted or cancelled, the
 * rate limit's next start); poll it in the application's loop. */
int cmb_copier_event_fd(const struct cmb_copier *c);
/* Never blocks: starts commands, reaps completions; fills up to `max`, returns how many. */
int cmb_copier_process(struct cmb_copier *c, struct cmb_completion *done, unsigned max);
/* Blocks until request `id` finishes or timeout_ms pass (-1: no limit). */
int cmb_copier_wait(struct cmb_copier *c, uint64_t id, int timeout_ms, struct cmb_completion *done);
/* Bytes of request id's contiguous prefix so far; 0 for an id not pending, and 0 with
 * errno EBADF for a bad handle (cmb_copier_progress_get tells these apart). */
uint64_t cmb_copier_progress(const struct cmb_copier *c, uint64_t id);
/* The same into *bytes: 0, -EBADF, -EINVAL (bytes NULL) or -ENOENT (id not pending:
 * unknown, or its completion already returned). Since 0.3 (symbol version CMB_0.3). */
int cmb_copier_progress_get(const struct cmb_copier *c, uint64_t id, uint64_t *bytes);
/* The last failure's message ("" when none); NULL with errno EBADF for a bad handle. */
const char *cmb_copier_error(const struct cmb_copier *c);
/* Finishes pending requests, then frees the copier. */
void cmb_copier_close(struct cmb_copier *c);

#ifdef __cplusplus
}
#endif

#endif /* CMB_CMB_H */
