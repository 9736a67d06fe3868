#!/usr/bin/env python3
"""Host side of the VM hot-removal tests: relays the guest's requests to QEMU's monitor.

The guest cannot reach QEMU's monitor, but it shares the run's output directory
with the host (9p). A guest test, through tests/vm/qmp, writes a QEMU device id
or a whole QMP command into OUT/qmp-request (written elsewhere, then renamed
into place). This watcher sends it over the QMP socket (an id as device_del),
writes QEMU's answer to OUT/qmp-reply (also by rename), and removes the request. It exits when
QEMU closes the socket (vm.sh also stops it when QEMU exits).

    tests/vm/qmp_watch.py OUT/qmp.sock OUT      # started by vm.sh --hotplug
"""
import json
import os
import socket
import sys
import time


def main() -> int:
    sock_path, out = sys.argv[1], sys.argv[2]
    deadline = time.time() + 60
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            s.connect(sock_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.time() > deadline:
                print(f"qmp_watch: no QMP socket at {sock_path}", file=sys.stderr)
                return 1
            time.sleep(0.1)
    f = s.makefile("rw")

    def command(cmd: dict) -> dict:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:  # skip asynchronous events until the answer
            line = f.readline()
            if not line:
                raise EOFError
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    f.readline()  # greeting
    command({"execute": "qmp_capabilities"})
    request = os.path.join(out, "qmp-request")
    s.setblocking(True)
    while True:
        if os.path.exists(request):
            with open(request) as r:
                dev = r.read().strip()
            if not dev:  # created but not yet written: read it again
                time.sleep(0.05)
                continue
            cmd = json.loads(dev) if dev.startswith("{") else {"execute": "device_del", "arguments": {"id": dev}}
            try:
                reply = command(cmd)
            except EOFError:
                return 0
            os.unlink(request)  # before the reply: the guest may send the next request at once
            with open(os.path.join(out, "qmp-reply.tmp"), "w") as w:
                w.write(json.dumps(reply) + "\n")
            os.replace(os.path.join(out, "qmp-reply.tmp"), os.path.join(out, "qmp-reply"))
            print(f"qmp_watch: {json.dumps(cmd)}: {json.dumps(reply)}", file=sys.stderr)
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
