#!/bin/sh
# Runs a program inside another root with chroot, as a user would
# (`chroot ROOT python3.14 ...`), for the tests' Debian sid interpreters. Run it in a
# mount namespace of its own (unshare --mount --propagation private): every mount
# below is that namespace's, and goes with it; the host keeps none, and the root's
# files are never written (the root is the lower layer of an overlay whose upper
# layer is a tmpfs). The program is exec'd, so its PID is this script's: the PID the
# test holds is the Python process itself.
#
# Usage: run_in_root.sh ROOT USERSPEC CWD DIR... -- PROGRAM ARG...
#   USERSPEC  uid:gid to run as (chroot --userspec), or "" for root
#   CWD       the directory to start in, inside the root ("" for /)
#   DIR...    host directories bound at the same path inside (the test's scripts,
#             its temporary directories), so the paths a test passes mean the same
# /proc is mounted inside: the interpreter and CPython's own tools read it.
set -eu
root=$1 userspec=$2 cwd=$3
shift 3
# /mnt is covered only in this namespace.
mount -t tmpfs -o mode=0755 pyprofd-test-root /mnt
mkdir /mnt/upper /mnt/work /mnt/root
mount -t overlay pyprofd-test-root -o "lowerdir=$root,upperdir=/mnt/upper,workdir=/mnt/work" /mnt/root
while [ "$1" != "--" ]; do
  mkdir -p "/mnt/root$1"
  mount --bind "$1" "/mnt/root$1"
  shift
done
shift
mount -t proc proc /mnt/root/proc
if [ -n "$userspec" ]; then
  exec chroot --userspec="$userspec" /mnt/root /bin/sh -c 'cd "$0" && exec "$@"' "${cwd:-/}" "$@"
fi
exec chroot /mnt/root /bin/sh -c 'cd "$0" && exec "$@"' "${cwd:-/}" "$@"
