#!/bin/sh
# The systemd unit: `systemd-analyze verify` accepts it, its Documentation=
# man:pyprofd(1) included (the page help2man made in the build, found through
# MANPATH), and `systemd-analyze security` rates its exposure 2.5 or better (the
# README gives the figure). With
# the drop-in allow-commands.conf its exposure is printed, and must stay "OK".
# systemd-analyze runs with a /run of its own, since as root it leaves a file in
# /run/systemd. tests/daemon/systemd_container_test.py runs the unit for real.
# Usage: systemd_unit_test.sh BUILD_TREE_UNIT ALLOW_COMMANDS_DROP_IN BUILD_MAN_DIR
set -u
unit="$1"
drop_in="$2"
man_dir="$3"
max_exposure=2.5
if ! command -v systemd-analyze >/dev/null; then
  echo "FAIL systemd-analyze is needed (Debian's systemd package)"; exit 1
fi
analyze() {
  if [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
    unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o mode=0755 pyprofd-test-run /run && exec "$@"' sh systemd-analyze "$@"
  else
    systemd-analyze "$@"
  fi
}
exposure() {  # "LEVEL RATING" of the unit, given systemd-analyze security's arguments
  analyze security --offline=true "$@" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p'
}
failed=0
if [ ! -f "$man_dir/man1/pyprofd.1" ]; then
  echo "FAIL no man page at $man_dir/man1/pyprofd.1 (cli/CMakeLists.txt makes it with help2man)"; failed=1
fi
# The build's pages first, then the system's (the trailing colon).
if out=$(MANPATH="$man_dir:" analyze verify "$unit" 2>&1) && [ -z "$out" ]; then
  echo "ok   systemd-analyze verify: no complaints, man:pyprofd(1) found"
else
  echo "FAIL systemd-analyze verify: $out"; failed=1
fi
level=$(exposure "$unit")
if [ -n "$level" ] && awk -v l="${level% *}" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
  echo "ok   systemd-analyze security: $level ($max_exposure or better wanted)"
else
  echo "FAIL systemd-analyze security rates it '$level' ($max_exposure or better wanted)"; failed=1
fi

# The unit with the drop-in, as a host that allows commands installs it.
root=$(mktemp -d "${TMPDIR:-/tmp}/pyprofd-unit-test-XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system/pyprofd.service.d"
cp "$unit" "$root/etc/systemd/system/pyprofd.service"
cp "$drop_in" "$root/etc/systemd/system/pyprofd.service.d/"
with=$(exposure --root="$root" pyprofd.service)
if [ "$with" = "$level" ]; then
  echo "FAIL with allow-commands.conf, the same exposure: the drop-in was not read"; failed=1
fi
case "$with" in
  *" OK"|*" SAFE"|*" PERFECT") echo "ok   with allow-commands.conf, systemd-analyze security: $with";;
  *) echo "FAIL with allow-commands.conf, systemd-analyze security rates it '$with' (OK or better wanted)"; failed=1;;
esac

# The real-time drop-in (realtime-sampling.conf, next to allow-commands.conf) alone.
realtime_drop_in="$(dirname "$drop_in")/realtime-sampling.conf"
rt_root="$root/realtime"
mkdir -p "$rt_root/etc/systemd/system/pyprofd.service.d"
cp "$unit" "$rt_root/etc/systemd/system/pyprofd.service"
cp "$realtime_drop_in" "$rt_root/etc/systemd/system/pyprofd.service.d/"
rt=$(exposure --root="$rt_root" pyprofd.service)
if [ "$rt" = "$level" ]; then
  echo "FAIL with realtime-sampling.conf, the same exposure: the drop-in was not read"; failed=1
fi
case "$rt" in
  *" OK"|*" SAFE"|*" PERFECT") echo "ok   with realtime-sampling.conf, systemd-analyze security: $rt";;
  *) echo "FAIL with realtime-sampling.conf, systemd-analyze security rates it '$rt' (OK or better wanted)"; failed=1;;
esac
exit $failed
