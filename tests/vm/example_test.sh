#!/bin/sh
# Runs inside the VM testbed: puts random data in src's first MiB, runs the
# example program (examples/p2p_copy.cc) and checks dst holds the same bytes.
#   example_test.sh PATH_TO_p2p_copy
set -eu
blk() {  # blk SERIAL -> /dev/nvmeXnY of the controller with that serial
  for c in /sys/class/nvme/nvme*; do
    if [ "$(tr -d " " <"$c/serial")" = "$1" ]; then  # space padded
      for n in "$c"/nvme*n1 "$c"/nvme*c*n1; do
        [ -e "$n" ] || continue
        n=$(basename "$n"); echo "/dev/$(echo "$n" | sed 's/c[0-9]*n/n/')"; return
      done
    fi
  done
  echo "no namespace for serial $1" >&2; exit 1
}
src=$(blk src); dst=$(blk dst)
dd if=/dev/urandom of="$src" bs=1M count=1 oflag=direct status=none ||
  { echo "example_test: FAIL: cannot write $src" >&2; exit 1; }
if cmp -s -n 1048576 "$src" "$dst"; then echo "src and dst already equal: test would prove nothing" >&2; exit 1; fi
"$1" src dst cmb || { echo "example_test: FAIL: the example exited $?" >&2; exit 1; }
cmp -n 1048576 "$src" "$dst" || { echo "example_test: FAIL: dst's first MiB differs from src's" >&2; exit 1; }
echo "example_test: dst's first MiB equals src's"
