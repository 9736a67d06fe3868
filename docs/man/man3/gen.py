# Writes docs/man/man3/cmb_*.3, one page per function of lib/include/cmb/cmb.h,
# from the table below (run from the source root: python3 docs/man/man3/gen.py).
# It fails when a function of the header has no page, or a page no function.
import re, os
hdr = open('lib/include/cmb/cmb.h').read()
# Each function: name -> (description, returns, errors)
# What a bad handle gets (cmb.h, "Invalid handles"): -EBADF from calls that
# return int, NULL or 0 with errno EBADF from the others.
def bad(arg, kind): return f"EBADF {arg} is not a live {kind}: NULL, freed or closed already, or another kind of pointer (checked before the other arguments)."
def bad_errno(arg, kind): return f"EBADF (in errno) {arg} is not a live {kind}: NULL, freed or closed already, or another kind of pointer."
def bad_value(arg, kind, none): return f"{none}, with errno set to EBADF, when {arg} is not a live {kind} (NULL, freed or closed already, or another kind of pointer); cmb_last_error(3) then names the call."
def freed(kind, arg): return (f"NULL is ignored, as by free(3). Another pointer that is not a live {kind} (freed already, or not one) is not touched: errno is set to EBADF. After freeing a live one errno is as it was, so a caller that sets errno to 0 first can tell.",
                              "Nothing; errno EBADF for a pointer that is not a live " + kind + ".",
                              f"EBADF (in errno) {arg} is not NULL and not a live {kind}: freed already, or another kind of pointer.")
SYS, BUF, Q, C = ('sys', 'cmb_system'), ('buf', 'cmb_buffer'), ('q', 'cmb_queue'), ('c', 'cmb_copier')
# Each function: name -> (description, returns, errors)
F = {
 'cmb_version': ("Returns the version of the loaded libcmb as MAJOR * 10000 + MINOR * 100 + PATCH. Compare it with CMB_VERSION_MAJOR and CMB_VERSION_MINOR, the version of the headers the program was built with.", "The version; it cannot fail.", ""),
 'cmb_last_error': ("Returns the message of the last call on this thread that failed, naming the cause and the fix. For a bad handle it names the call and the argument. It stays valid until the next failing call on the same thread. Calls that succeed leave it unchanged.", "A NUL-terminated string, \"\" when no call has failed.", ""),
 'cmb_discover': ("Takes a snapshot of the machine's NVMe controllers, their namespaces, CMBs and p2pmem pools, and the running kernel's abilities, from sysfs (or from the tree named by $CMB_SYSFS_ROOT, for tests). Free it with cmb_system_free(3). Handles opened from it copy what they need, so it may be freed before them.", "0, with *sys set; or a negative errno.", "EINVAL sys is NULL. EIO sysfs could not be read (the message says which file). EOPNOTSUPP sysfs shows a device the library cannot use (an odd logical block size, no host bridge)."),
 'cmb_system_free': ("Frees a snapshot from cmb_discover(3). Strings returned by cmb_controller_get(3) and cmb_namespace_get(3) for it become invalid. " + freed(*SYS[::-1])[0], freed(*SYS[::-1])[1], freed(*SYS[::-1])[2]),
 'cmb_controller_count': ("Returns the number of NVMe controllers in the snapshot; they are indexed from 0 in cmb_controller_get(3).", "The count, or -EBADF.", bad(*SYS)),
 'cmb_controller_get': ("Fills *info with controller index of the snapshot: its name (\"nvme0\"), serial, model, PCI address (\"\" when not PCIe), CMB size, the free bytes of its p2pmem pool, whether that pool is published for other devices' use, and its number of namespaces. The strings stay valid while sys lives.", "0, or a negative errno.", bad(*SYS) + " EINVAL info is NULL. ERANGE no controller index."),
 'cmb_namespace_get': ("Fills *info with namespace index of controller controller: its name, generic (/dev/ngXnY) and block devices, NSID, LBA size, capacity in LBAs, and the largest command any page-aligned buffer fits (max_transfer_bytes).", "0, or a negative errno.", bad(*SYS) + " EINVAL info is NULL. ERANGE no such controller or namespace."),
 'cmb_namespace_find': ("Fills *info with the namespace spec names: \"nvme1:1\" (controller and NSID), \"/dev/ng1n1\", \"/dev/nvme1n1\" or \"0000:04:00.0:1\" (PCI address and NSID).", "0, or a negative errno.", bad(*SYS) + " EINVAL spec or info is NULL, or a malformed spec. ENOENT no such namespace."),
 'cmb_p2p_alloc': ("Allocates bytes of P2P memory in the CMB of provider (a controller name such as \"nvme0\", or its PCI address): an mmap(MAP_SHARED) of /sys/bus/pci/devices/<bdf>/p2pmem/allocate. It needs Linux 6.2 or newer built with CONFIG_PCI_P2PDMA, and read-write access to that file (the udev rules of the cmb package grant it to the cmb group).", "0, with *buf set; or a negative errno.", bad(*SYS) + " EINVAL provider or buf is NULL, or zero bytes. ENOENT no such controller, or it has no p2pmem pool (no CMB, or the kernel lacks P2PDMA). EOPNOTSUPP the pool is not published (its CMB lacks WDS or RDS), or the kernel cannot hand p2pmem to user space (before Linux 6.2). EACCES no permission on p2pmem/allocate. ENOSPC the pool has fewer free bytes."),
 'cmb_host_alloc': ("Allocates bytes of page-aligned host memory, for the same calls as P2P memory (a bounce buffer, or a test's reference).", "0, with *buf set; or a negative errno.", "EINVAL buf is NULL or bytes is zero. ENOSPC out of memory."),
 'cmb_buffer_data': ("Returns the buffer's first byte. For P2P memory every CPU access is an MMIO access to the CMB: slow, and meant for checking data, not for moving it.", "The address, never NULL for a live buffer; " + bad_value(*BUF, "NULL"), bad_errno(*BUF)),
 'cmb_buffer_size': ("Returns the buffer's size in bytes: the size asked for, rounded up to whole pages.", "The size, never 0 for a live buffer; " + bad_value(*BUF, "0"), bad_errno(*BUF)),
 'cmb_buffer_free': ("Unmaps and frees a buffer. Commands that use it must have completed. " + freed(*BUF[::-1])[0], freed(*BUF[::-1])[1], freed(*BUF[::-1])[2]),
 'cmb_queue_open': ("Opens NVMe I/O on namespace ns through its generic device /dev/ngXnY (io_uring IORING_OP_URING_CMD passthrough), read-only unless writable.", "0, with *q set; or a negative errno.", bad(*SYS) + " EINVAL ns or q is NULL. ENOENT no such namespace. EACCES no permission on /dev/ngXnY. EOPNOTSUPP the namespace has no generic device, the kernel lacks io_uring passthrough (Linux 5.19), or io_uring is disabled (kernel.io_uring_disabled)."),
 'cmb_queue_read': ("Reads bytes (whole LBAs) from LBA slba into buf at offset (page aligned), and waits for the command. With P2P memory the data goes from the device straight into the CMB.", "0, or a negative errno; cmb_queue_error(3) then has the message.", "EBADF q is not a live cmb_queue, or buf not a live cmb_buffer (NULL, freed or closed already, or another kind of pointer). EINVAL a misaligned offset, bytes not whole LBAs or over max_transfer_bytes; or, since Linux 6.17, the kernel refused P2P DMA between this device and the buffer's CMB (the message gives the kernel's reason and the fix). ERANGE beyond the buffer or the namespace. EOPNOTSUPP the controller refused a CMB command (Invalid Use of Controller Memory Buffer), or the kernel does not support P2P buffers in passthrough. EACCES the kernel or the controller refused the command (permission, write protection, a reservation). EAGAIN a temporary condition of the device (retry later). EIO an NVMe error status (in the message), or, before Linux 6.17, the kernel refused P2P DMA (EREMOTEIO; the message says so)."),
 'cmb_queue_write': ("Writes bytes (whole LBAs) from buf at offset (page aligned) to LBA slba, and waits for the command. The queue must be opened writable.", "0, or a negative errno; cmb_queue_error(3) then has the message.", "As cmb_queue_read(3); EACCES when the queue is read-only."),
 'cmb_queue_error': ("Returns the message of the queue's last failed call.", "A NUL-terminated string, \"\" when none failed; " + bad_value(*Q, "NULL"), bad_errno(*Q)),
 'cmb_queue_close': ("Closes a queue. " + freed(*Q[::-1])[0], freed(*Q[::-1])[1], freed(*Q[::-1])[2]),
 'cmb_copier_open': ("Plans a copy from namespace src to the ndst namespaces dsts (a fan-out when ndst > 1) and opens an asynchronous copier for it: it picks one CMB that the source and every destination reach (opts->via to choose), or host memory when opts->allow_bounce and none does; it checks that no destination is in use (unless opts->force, which overrides that only for a process with CAP_SYS_ADMIN in the initial user namespace), holds every destination's block device with O_EXCL while it lives, and opens its rings and its buffer once for all requests. opts may be NULL. opts->plan_bytes sizes the plan (0: the most every end holds from LBA 0). opts->flags: CMB_COPIER_STRIPE spreads the chunks over every third-party CMB that all ends reach; CMB_COPIER_SQPOLL submits through a kernel polling thread (IORING_SETUP_SQPOLL); CMB_COPIER_POLL polls for completions on the namespaces' poll queues (IORING_SETUP_IOPOLL; the event fd then stays readable while commands are in flight).", "0, with *c set; or a negative errno; cmb_last_error(3) then has the message.", bad(*SYS) + " EINVAL src, dsts or c is NULL, ndst 0, one namespace twice, or unknown bits in opts->flags or non-zero opts->reserved. ENOENT a namespace or the via controller does not exist. EACCES opts->force on a destination in use without CAP_SYS_ADMIN (force is a safety override for root, not a permission), or a device the caller may not open. EOPNOTSUPP refused: a destination is in use (a file system, swap, md/dm: unmount it, or opts->force as root), source and destination overlap in one namespace, no CMB has a P2P path the kernel allows to every end (the message gives each CMB's reason and the fix; or opts->allow_bounce), the via CMB has no published pool, CMB_COPIER_POLL on a namespace without poll queues (the message says how to add them), or the kernel lacks io_uring passthrough. ENOSPC the CMB is too full."),
 'cmb_copier_plan': ("Returns a one-line description of the copier's plan: method, CMB (with CMB_COPIER_STRIPE every CMB of the stripe, joined by +: \"p2p through 0000:03:00.0+0000:06:00.0\"), chunk size, queue depth, destinations.", "A string valid while the copier lives; " + bad_value(*C, "NULL"), bad_errno(*C)),
 'cmb_copier_submit': ("Queues a request of n extents (source LBA, destination LBA, source LBAs each); the bytes of a request are its extents' bytes in that order. They are checked here: whole LBAs of every end, inside every namespace, no two overlapping on the destination. Nothing moves until cmb_copier_process(3) or cmb_copier_wait(3).", "0, with *id set; or a negative errno.", bad(*C) + " EINVAL extents or id is NULL, an empty extent, or LBAs that are not whole on every end. ERANGE an extent leaves a namespace. EOPNOTSUPP two extents overlap on the destination, or a source extent overlaps a destination one in the same namespace."),
 'cmb_copier_cancel': ("Starts no more of request id's commands. The request completes, cancelled, once those in flight are done, with an exact prefix on every destination.", "0, or a negative errno.", bad(*C) + " ENOENT id is not pending."),
 'cmb_copier_event_fd': ("Returns an eventfd that becomes readable when a command of the copier completes, for poll(2), epoll(7) or an event loop; then call cmb_copier_process(3). Call that also after cmb_copier_submit(3).", "The fd (owned by the copier), or -EBADF.", bad(*C)),
 'cmb_copier_process': ("Never blocks: reaps completions, starts commands, and fills up to max completions of finished requests. Requests finishing beyond max are kept for the next call. The dsts arrays and strings of the completions stay valid until the next process, wait or close call on the copier. A completion's status, and each destination's, is 0 or a negative errno of the table in cmb_last_error(3).", "The number of completions filled, or a negative errno.", bad(*C) + " EINVAL done is NULL and max is not 0."),
 'cmb_copier_wait': ("Drives the copier until request id finishes, or timeout_ms pass (-1: no limit), and fills *done. Other requests finishing meanwhile are kept for cmb_copier_process(3). done->status is 0 when every destination holds every byte; done->dsts[i] gives each destination's status, message and exact prefix.", "0, or a negative errno.", bad(*C) + " EINVAL done is NULL. ENOENT id is not pending. ETIMEDOUT the request is still running."),
 'cmb_copier_progress': ("Returns how many bytes of request id, from its start, are on its slowest live destination.", "Bytes; 0 for an id that is not pending; " + bad_value(*C, "0") + " cmb_copier_progress_get(3) tells those from a request at 0 bytes.", bad_errno(*C)),
 'cmb_copier_progress_get': ("Stores in *bytes how many bytes of request id, from its start, are on its slowest live destination. It is cmb_copier_progress(3) with a status, so that a bad handle or an unknown request is not taken for a request at 0 bytes. A request is known from cmb_copier_submit(3) until cmb_copier_process(3) or cmb_copier_wait(3) returns its completion.", "0, with *bytes set; or a negative errno; cmb_last_error(3) then has the message.", bad(*C) + " EINVAL bytes is NULL. ENOENT id is not pending: never submitted, or its completion was returned already."),
 'cmb_copier_error': ("Returns the message of the copier's last failure (a failed call or a failed request).", "A NUL-terminated string, \"\" when none; " + bad_value(*C, "NULL"), bad_errno(*C)),
 'cmb_copier_close': ("Finishes every pending request, then releases the copier's rings, buffer and holds and frees it. " + freed(*C[::-1])[0], freed(*C[::-1])[1], freed(*C[::-1])[2]),
}
# The release that added a function, when later than 0.1 (its symbol version).
SINCE = {'cmb_copier_progress_get': '0.3'}
# cmb_last_error(3) also documents every function's errors: the table of
# cmb.h (lib/src/c_errno.h) and the rule for bad handles.
CODES = [
 ("EINVAL", "A bad argument or a malformed request (InvalidArgument)."),
 ("ENOENT", "No such device, namespace or request (NotFound)."),
 ("ERANGE", "Beyond a namespace's or a buffer's end (OutOfRange)."),
 ("EACCES", "No permission (PermissionDenied; the kernel's EPERM and EACCES both)."),
 ("EOPNOTSUPP", "This system cannot do it as it is (FailedPrecondition): no P2P path the kernel allows, a kernel, device or driver feature missing, a destination in use (refused for safety), overlapping extents; or not supported at all (Unimplemented: a kernel feature, an NVMe command). The message says which and the fix. Until 0.3 FailedPrecondition was EPERM, which is no longer returned."),
 ("ENOSPC", "The CMB, or memory, is too full (ResourceExhausted)."),
 ("ECANCELED", "Cancelled (Cancelled)."),
 ("ETIMEDOUT", "A wait timed out (DeadlineExceeded)."),
 ("EAGAIN", "A temporary device condition: retry later (Unavailable)."),
 ("EEXIST", "Already exists (AlreadyExists)."),
 ("EIO", "An I/O error: an NVMe status (in the message), or a failure no other code describes (Aborted, DataLoss, Internal, Unknown)."),
 ("EBADF", "A handle argument is NULL, freed or closed already, or not a handle of its type; no other failure gives it. Functions returning int return -EBADF (a bad handle is checked before the other arguments; a NULL out-pointer is EINVAL). Functions returning a pointer or a size return NULL or 0, which no live handle gives, and set errno to EBADF. The free and close functions ignore NULL, as free(3), and set errno to EBADF for another pointer that is no handle. A freed handle is recognised as long as no new handle of its type reuses its memory: a diagnostic, not a licence to use freed handles."),
]
protos = {}
flat = re.sub(r'/\*.*?\*/', '', hdr, flags=re.S)
for m in re.finditer(r'^([a-z][^;()]*?\b(cmb_[a-z_0-9]+)\s*\((?:[^;])*?\));', flat, re.M | re.S):
    protos[m.group(2)] = ' '.join(m.group(1).split())
assert set(protos) == set(F), set(protos) ^ set(F)
def esc(t): return t.replace('\\', '\\\\').replace('-', '\\-')
for name, (desc, ret, errs) in F.items():
    lines = [f'.TH {name.upper()} 3 2026-12-01 "cmb 0.1" "cmb C API"', '.SH NAME', f'{name} \\- {esc(desc.split(".")[0].lower())}',
             '.SH SYNOPSIS', '.nf', '.B #include <cmb/cmb.h>', '.PP', f'.B {esc(protos[name])};', '.fi',
             '.PP', 'Link with \\fI\\-lcmb\\fP (pkg\\-config: \\fIcmb\\fP).', '.SH DESCRIPTION', esc(desc), '.SH RETURN VALUE', esc(ret)]
    if errs:
        lines += ['.SH ERRORS']
        for e in re.split(r'(?<=\.) (?=E[A-Z]+ )', errs):
            code, _, text = e.partition(' ')
            lines += ['.TP', f'.B {code}', esc(text)]
    if name == 'cmb_last_error':
        lines += ['.SH ERROR CODES', esc('Every function of the C API returns 0 (or a count) or a negative errno from this table, '
                  'which maps the C++ library\'s status codes; so do completions (cmb_completion.status).')]
        for code, text in CODES:
            lines += ['.TP', f'.B {code}', esc(text)]
    if name in SINCE:
        lines += ['.SH VERSIONS', esc(f'{name}() first appeared in libcmb {SINCE[name]} (symbol version CMB_{SINCE[name]}).')]
    lines += ['.SH SEE ALSO', 'cmb(7), cmb_discover(3), cmb_copier_open(3), cmb_last_error(3); docs/abi.md and docs/library.md in the source']
    open(f'docs/man/man3/{name}.3', 'w').write('\n'.join(lines) + '\n')
print(len(F))
