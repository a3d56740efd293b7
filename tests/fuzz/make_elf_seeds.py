#!/usr/bin/env python3
"""Writes the seeds of fuzz_elf: each a real interpreter's ELF file cut down to what
the ELF reader reads, so that a seed is a few tens of KB where the file is 6-31 MB.

Kept, from each interpreter given: the ELF header and the program headers as they
are; every section header (their addresses and sizes as they are: the sampler
places .PyRuntime and .bss by them), with the contents of the section name table,
.dynsym/.dynstr and .symtab/.strtab only, at new offsets. Each symbol table keeps
its entry 0, every symbol the sampler looks up (sampler/interpreter_symbols.cpp:
PyCode_Type, Py_Initialize, _PyRuntime, Py_Version, version.0, ...) and the first
other ones, up to 256 in all, in their order (locals first); its string table
holds their names only. The contents of other sections are left out: their headers
point past the end of the seed, as the reader never reads them.

Run by hand, with the interpreters of the machine (sampler_unit_tests checks that
the committed seeds still parse and name an interpreter):
    tests/fuzz/make_elf_seeds.py tests/fuzz/corpus/elf /usr/bin/python3.11 \\
        $(pyenv root)/versions/*/lib/libpython*.so.1.0
"""
import os
import struct
import sys

WANTED = {
    "PyCode_Type", "Py_Initialize", "Py_InitializeEx", "_PyRuntime", "interp_head",
    "_PyThreadState_Current", "PyFrame_Type", "PyUnicode_Type", "PyBytes_Type",
    "PyString_Type", "PyDict_Type", "PyLong_Type", "PyInt_Type", "PyModule_Type",
    "Py_Version", "version",
}
WANTED_PREFIX = "version."
SYMBOLS_PER_TABLE = 256

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
SHT_SYMTAB, SHT_DYNSYM = 2, 11


def c_string(data, at):
    end = data.index(b"\0", at)
    return data[at:end].decode("latin-1")


def cut_down(data):
    (ident, e_type, machine, version, entry, phoff, shoff, flags, ehsize, phentsize,
     phnum, shentsize, shnum, shstrndx) = EHDR.unpack_from(data, 0)
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    headers = [list(SHDR.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    section = lambda h: data[h[4]:h[4] + h[5]]  # sh_offset, sh_size

    out = bytearray(data[:EHDR.size])
    out += data[phoff:phoff + phnum * phentsize]
    new_phoff = EHDR.size

    def place(index, content, align=8):
        while len(out) % align:
            out.append(0)
        headers[index][4] = len(out)      # sh_offset
        headers[index][5] = len(content)  # sh_size
        out.extend(content)

    place(shstrndx, section(headers[shstrndx]), 1)
    for index, h in enumerate(headers):
        if h[1] not in (SHT_SYMTAB, SHT_DYNSYM):
            continue
        strtab_index = h[6]
        if strtab_index == shstrndx:
            raise ValueError("its section names share a string table with its symbols")
        strings = section(headers[strtab_index])
        table = section(h)
        first_global = h[7]
        kept, fillers = [], 0
        for i in range(1, len(table) // SYM.size):
            name_at, info, other, shndx, value, size = SYM.unpack_from(table, i * SYM.size)
            name = c_string(strings, name_at)
            wanted = name in WANTED or name.startswith(WANTED_PREFIX)
            if not wanted and (fillers >= SYMBOLS_PER_TABLE - len(WANTED) or shndx == 0 or not name):
                continue
            fillers += not wanted
            kept.append((i, name, info, other, shndx, value, size))
        new_strings = bytearray(b"\0")
        new_table = bytearray(SYM.size)  # entry 0
        for i, name, info, other, shndx, value, size in kept:
            new_table += SYM.pack(len(new_strings), info, other, shndx, value, size)
            new_strings += name.encode("latin-1") + b"\0"
        h[7] = 1 + sum(1 for k in kept if k[0] < first_global)  # sh_info: locals first
        place(index, bytes(new_table))
        place(strtab_index, bytes(new_strings), 1)

    while len(out) % 8:
        out.append(0)
    new_shoff = len(out)
    for h in headers:
        out += SHDR.pack(*h)
    EHDR.pack_into(out, 0, ident, e_type, machine, version, entry, new_phoff, new_shoff, flags,
                   ehsize, phentsize, phnum, shentsize, shnum, shstrndx)
    return bytes(out)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: make_elf_seeds.py DIRECTORY INTERPRETER...")
    directory = sys.argv[1]
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            seed = cut_down(f.read())
        target = os.path.join(directory, "seed-" + os.path.basename(path))
        with open(target, "wb") as f:
            f.write(seed)
        print(f"{target}: {len(seed)} bytes, from {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
