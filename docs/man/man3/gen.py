# Writes docs/man/man3/cmb_*.3, one page per function of lib/include/cmb/cmb.h,
# from the table below (run from the source root: python3 docs/man/man3/gen.py).
# It fails when a function of the header has no page, or a page no function.
import re, os
hdr = open('lib/include/cmb/cmb.h').read()
# Each function: name -> (description, returns, errors)
F = {
 'cmb_version': ("Returns the version of the loaded libcmb as MAJOR * 10000 + MINOR * 100 + PATCH. Compare it with CMB_VERSION_MAJOR and CMB_VERSION_MINOR, the version of the headers the program was built with.", "The version; it cannot fail.", ""),
 'cmb_last_error': ("Returns the message of the last call on this thread that failed, naming the cause and the fix. It stays valid until the next failing call on the same thread. Calls that succeed leave it unchanged.", "A NUL-terminated string, \"\" when no call has failed.", ""),
 'cmb_discover': ("Takes a snapshot of the machine's NVMe controllers, their namespaces, CMBs and p2pmem pools, and the running kernel's abilities, from sysfs (or from the tree named by $CMB_SYSFS_ROOT, for tests). Free it with cmb_system_free(3). Handles opened from it copy what they need, so it may be freed before them.", "0, with *sys set; or a negative errno.", "EINVAL sys is NULL. EIO sysfs could not be read (the message says which file)."),
 'cmb_system_free': ("Frees a snapshot from cmb_discover(3). NULL is ignored. Strings returned by cmb_controller_get(3) and cmb_namespace_get(3) for it become invalid.", "Nothing.", ""),
 'cmb_controller_count': ("Returns the number of NVMe controllers in the snapshot; they are indexed from 0 in cmb_controller_get(3).", "The count, or -EINVAL for a NULL sys.", "EINVAL sys is NULL."),
 'cmb_controller_get': ("Fills *info with controller index of the snapshot: its name (\"nvme0\"), serial, model, PCI address (\"\" when not PCIe), CMB size, the free bytes of its p2pmem pool, whether that pool is published for other devices' use, and its number of namespaces. The strings stay valid while sys lives.", "0, or a negative errno.", "EINVAL a NULL argument. ERANGE no controller index."),
 'cmb_namespace_get': ("Fills *info with namespace index of controller controller: its name, generic (/dev/ngXnY) and block devices, NSID, LBA size, capacity in LBAs, and the largest command any page-aligned buffer fits (max_transfer_bytes).", "0, or a negative errno.", "EINVAL a NULL argument. ERANGE no such controller or namespace."),
 'cmb_namespace_find': ("Fills *info with the namespace spec names: \"nvme1:1\" (controller and NSID), \"/dev/ng1n1\", \"/dev/nvme1n1\" or \"0000:04:00.0:1\" (PCI address and NSID).", "0, or a negative errno.", "EINVAL a NULL argument or a malformed spec. ENOENT no such namespace."),
 'cmb_p2p_alloc': ("Allocates bytes of P2P memory in the CMB of provider (a controller name such as \"nvme0\", or its PCI address): an mmap(MAP_SHARED) of /sys/bus/pci/devices/<bdf>/p2pmem/allocate. It needs Linux 6.2 or newer built with CONFIG_PCI_P2PDMA, and read-write access to that file (the udev rules of the cmb package grant it to the cmb group).", "0, with *buf set; or a negative errno.", "EINVAL a NULL argument or zero bytes. ENOENT no such controller, or it has no p2pmem pool (the message says why: no CMB, not published, the kernel lacks P2PDMA). EACCES no permission on p2pmem/allocate. ENOSPC the pool has fewer free bytes."),
 'cmb_host_alloc': ("Allocates bytes of page-aligned host memory, for the same calls as P2P memory (a bounce buffer, or a test's reference).", "0, with *buf set; or a negative errno.", "EINVAL buf is NULL or bytes is zero. ENOSPC out of memory."),
 'cmb_buffer_data': ("Returns the buffer's first byte. For P2P memory every CPU access is an MMIO access to the CMB: slow, and meant for checking data, not for moving it.", "The address, or NULL for a NULL buffer.", ""),
 'cmb_buffer_size': ("Returns the buffer's size in bytes.", "The size, or 0 for a NULL buffer.", ""),
 'cmb_buffer_free': ("Unmaps and frees a buffer. Commands that use it must have completed. NULL is ignored.", "Nothing.", ""),
 'cmb_queue_open': ("Opens NVMe I/O on namespace ns through its generic device /dev/ngXnY (io_uring IORING_OP_URING_CMD passthrough), read-only unless writable.", "0, with *q set; or a negative errno.", "EINVAL a NULL argument. ENOENT no such namespace or no generic device. EACCES no permission on /dev/ngXnY. EOPNOTSUPP the kernel lacks io_uring passthrough (Linux 5.19) or io_uring is disabled (kernel.io_uring_disabled)."),
 'cmb_queue_read': ("Reads bytes (whole LBAs) from LBA slba into buf at offset (page aligned), and waits for the command. With P2P memory the data goes from the device straight into the CMB.", "0, or a negative errno; cmb_queue_error(3) then has the message.", "EINVAL a NULL argument, a misaligned offset, bytes not whole LBAs or over max_transfer_bytes. ERANGE beyond the buffer or the namespace. EPERM the kernel refuses P2P DMA between this device and the buffer's CMB (the message gives the kernel's reason and the fix), or the controller refused a CMB command. EIO an NVMe error status (in the message)."),
 'cmb_queue_write': ("Writes bytes (whole LBAs) from buf at offset (page aligned) to LBA slba, and waits for the command. The queue must be opened writable.", "0, or a negative errno; cmb_queue_error(3) then has the message.", "As cmb_queue_read(3); EACCES when the queue is read-only."),
 'cmb_queue_error': ("Returns the message of the queue's last failed call.", "A NUL-terminated string, \"\" when none failed.", ""),
 'cmb_queue_close': ("Closes a queue. NULL is ignored.", "Nothing.", ""),
 'cmb_copier_open': ("Plans a copy from namespace src to the ndst namespaces dsts (a fan-out when ndst > 1) and opens an asynchronous copier for it: it picks one CMB that the source and every destination reach (opts->via to choose), or host memory when opts->allow_bounce and none does; it checks that no destination is in use (unless opts->force), holds every destination's block device with O_EXCL while it lives, and opens its rings and its buffer once for all requests. opts may be NULL. opts->plan_bytes sizes the plan (0: the most every end holds from LBA 0). opts->flags: CMB_COPIER_STRIPE spreads the chunks over every third-party CMB that all ends reach; CMB_COPIER_SQPOLL submits through a kernel polling thread (IORING_SETUP_SQPOLL); CMB_COPIER_POLL polls for completions on the namespaces' poll queues (IORING_SETUP_IOPOLL; the event fd then stays readable while commands are in flight).", "0, with *c set; or a negative errno; cmb_last_error(3) then has the message.", "EINVAL a NULL argument, ndst 0, one namespace twice, or unknown bits in opts->flags or non-zero opts->reserved. ENOENT a namespace or the via controller does not exist. EPERM refused for safety (in use, overlap) or because the kernel would refuse every CMB path (the message gives each CMB's reason and the fix). ENOSPC the CMB is too full."),
 'cmb_copier_plan': ("Returns a one-line description of the copier's plan: method, CMB, chunk size, queue depth, destinations.", "A string valid while the copier lives.", ""),
 'cmb_copier_submit': ("Queues a request of n extents (source LBA, destination LBA, source LBAs each); the bytes of a request are its extents' bytes in that order. They are checked here: whole LBAs of every end, inside every namespace, no two overlapping on the destination. Nothing moves until cmb_copier_process(3) or cmb_copier_wait(3).", "0, with *id set; or a negative errno.", "EINVAL a NULL argument, an empty extent, overlapping extents, or LBAs that are not whole on every end. ERANGE an extent leaves a namespace. EPERM the copier is closed."),
 'cmb_copier_cancel': ("Starts no more of request id's commands. The request completes, cancelled, once those in flight are done, with an exact prefix on every destination.", "0, or a negative errno.", "ENOENT id is not pending."),
 'cmb_copier_event_fd': ("Returns an eventfd that becomes readable when a command of the copier completes, for poll(2), epoll(7) or an event loop; then call cmb_copier_process(3). Call that also after cmb_copier_submit(3).", "The fd (owned by the copier), or -EINVAL.", ""),
 'cmb_copier_process': ("Never blocks: reaps completions, starts commands, and fills up to max completions of finished requests. Requests finishing beyond max are kept for the next call. The dsts arrays and strings of the completions stay valid until the next process, wait or close call on the copier.", "The number of completions filled, or a negative errno.", "EINVAL a NULL argument."),
 'cmb_copier_wait': ("Drives the copier until request id finishes, or timeout_ms pass (-1: no limit), and fills *done. Other requests finishing meanwhile are kept for cmb_copier_process(3). done->status is 0 when every destination holds every byte; done->dsts[i] gives each destination's status, message and exact prefix.", "0, or a negative errno.", "ENOENT id is not pending. ETIMEDOUT the request is still running."),
 'cmb_copier_progress': ("Returns how many bytes of request id, from its start, are on its slowest live destination.", "Bytes; 0 for an unknown id.", ""),
 'cmb_copier_error': ("Returns the message of the copier's last failure (a failed call or a failed request).", "A NUL-terminated string, \"\" when none.", ""),
 'cmb_copier_close': ("Finishes every pending request, then releases the copier's rings, buffer and holds and frees it. NULL is ignored.", "Nothing.", ""),
}
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
    lines += ['.SH SEE ALSO', 'cmb(7), cmb_discover(3), cmb_copier_open(3), cmb_last_error(3); docs/abi.md and docs/library.md in the source']
    open(f'docs/man/man3/{name}.3', 'w').write('\n'.join(lines) + '\n')
print(len(F))
