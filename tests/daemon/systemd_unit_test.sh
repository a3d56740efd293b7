#!/bin/sh
# The systemd unit: `systemd-analyze verify` accepts it, and `systemd-analyze
# security` rates its exposure "OK" or better (at most 4.9; the README gives the
# figure). Usage: systemd_unit_test.sh BUILD_TREE_UNIT
set -u
unit="$1"
if ! command -v systemd-analyze >/dev/null; then
  echo "FAIL systemd-analyze is needed (Debian's systemd package)"; exit 1
fi
failed=0
if out=$(systemd-analyze verify --man=no "$unit" 2>&1) && [ -z "$out" ]; then
  echo "ok   systemd-analyze verify: no complaints"
else
  echo "FAIL systemd-analyze verify: $out"; failed=1
fi
level=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "     exposure: $level"
case "$level" in
  [0-4].*" OK"|[0-4].*" SAFE"|[0-4].*" PERFECT") echo "ok   systemd-analyze security: $level";;
  *) echo "FAIL systemd-analyze security rates it '$level' (OK or better wanted)"; failed=1;;
esac
exit $failed
