#!/usr/bin/env python3
"""A target's ELF files are hostile input. A process running as nobody maps a
crafted copy of a libpython whose symbol string tables say they lie a terabyte
before the file, with offset + size wrapping around 2^64 (a bounds check of the sum
passes; the names would be read far outside the file). Through a real daemon,
asked for the process's stacks, for a session of it, and for stacks again: the
daemon stays up and answers /healthz, and reads the process through its real
interpreter (the executable), whose frames show.

Usage: hostile_elf_test.py PYPROFD_BINARY SOURCE_DIR
"""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, readable_copy, report, wait_for_state  # noqa: E402

SHT_SYMTAB, SHT_DYNSYM = 2, 11


def a_shared_libpython():
    """A real libpython to craft from: pyenv's, else any on the machine."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which("pyenv") else ""
    found = sorted(glob.glob(os.path.join(root, "versions/3.*/lib/libpython3.*.so.1.0"))) if root else []
    found += sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libpython3*.so.1.0"))
    return found[-1] if found else None


def craft(source, path):
    """source with every symbol table's strings moved 1 TiB before the file, long
    enough to reach past its start: offset + size wraps to a small number."""
    data = bytearray(open(source, "rb").read())
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    changed = 0
    for i in range(e_shnum):
        at = e_shoff + i * e_shentsize
        sh_type, = struct.unpack_from("<I", data, at + 4)
        if sh_type not in (SHT_SYMTAB, SHT_DYNSYM):
            continue
        link, = struct.unpack_from("<I", data, at + 40)
        strtab = e_shoff + link * e_shentsize
        struct.pack_into("<QQ", data, strtab + 24, (1 << 64) - (1 << 40), (1 << 40) + len(data) // 2)
        changed += 1
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return changed


def main():
    source = a_shared_libpython()
    if not check(source is not None, "a shared libpython to craft the hostile file from"):
        return report()
    work = tempfile.mkdtemp(prefix="pyprofd-hostile-elf-")
    os.chmod(work, 0o755)
    target = daemon = None
    try:
        crafted = os.path.join(work, "libpython3.11.so")
        check(craft(source, crafted) >= 1, "the crafted file has its symbol tables' strings moved (from %s)" % source)
        target = subprocess.Popen([PYTHON, readable_copy(os.path.join(SOURCE, "tests/targets/maps_a_library.py")), crafted],
                                  stdout=subprocess.PIPE, user=65534, group=65534, extra_groups=[], cwd="/")
        ready = target.stdout.readline().decode()
        if not check(ready.startswith("READY"), "the target (as nobody) maps the crafted file"):
            return report()
        with open("/proc/%d/maps" % target.pid) as f:
            check(crafted in f.read(), "the crafted file shows in the target's mappings")
        state = os.path.join(work, "state")
        daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state], os.path.join(work, "daemon.log"))

        status, _, stacks = daemon.request("GET", "/processes/%d/stacks" % target.pid)
        check(daemon.process.poll() is None, "the daemon is still running after reading the process's stacks")
        frames = [f.get("function") for t in (stacks or {}).get("threads", []) for f in t.get("frames", [])] \
            if status == 200 else []
        check(status == 200 and "busy_with_a_mapped_library" in frames,
              "the stacks are read through the real interpreter, the executable: %s %s" % (status, frames[:4]))
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 200, "duration_s": 1})
        check(status == 201, "a session of it starts: %s %s" % (status, s))
        if status == 201:
            done = wait_for_state(daemon, s["id"], ("completed",))
            check(done is not None and done.get("samples", 0) > 0, "and completes with samples: %s" % done)
            status, _, folded = daemon.request("GET", "/sessions/%s/folded" % s["id"], raw=True)
            check(status == 200 and b"busy_with_a_mapped_library" in folded, "its profile shows the target's function")
        status, _, _ = daemon.request("GET", "/healthz")
        check(status == 200 and daemon.process.poll() is None, "the daemon still answers /healthz")
    finally:
        if daemon:
            daemon.stop()
        if target:
            target.kill()
            target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
