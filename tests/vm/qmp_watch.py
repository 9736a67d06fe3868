#!/usr/bin/env python3
"""Host side of the VM hot-removal tests: relays the guest's requests to QEMU's monitor.

The guest cannot reach QEMU's monitor, but it shares the run's output directory
with the host (9p). A guest test writes a QEMU device id into OUT/qmp-request (written
elsewhere, then renamed into place);
this watcher sends {"execute": "device_del"} for it over the QMP socket,
writes QEMU's answer to OUT/qmp-reply, and removes the request. It exits when
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
            try:
                reply = command({"execute": "device_del", "arguments": {"id": dev}})
            except EOFError:
                return 0
            with open(os.path.join(out, "qmp-reply"), "w") as w:
                w.write(json.dumps(reply) + "\n")
            os.unlink(request)
            print(f"qmp_watch: device_del {dev}: {json.dumps(reply)}", file=sys.stderr)
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
