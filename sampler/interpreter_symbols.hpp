#pragma once
// The ELF symbols pyprofd looks up in a CPython's file. The ELF reader keeps only
// these: a real libpython defines up to 17 000 symbols, of which pyprofd uses a
// dozen, and a crafted file could define millions. A new lookup in the sampler
// starts by adding its name here; the integration tests that attach to every
// installed interpreter (dump_test) fail where a name is missing.
#include "sampler/elf_file.hpp"

namespace pyprofd::sampler {

const SymbolSelection& interpreter_symbols();

}  // namespace pyprofd::sampler
