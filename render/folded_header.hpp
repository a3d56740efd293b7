#pragma once
// The metadata at the top of folded stacks: lines that start with '#', as Austin
// writes its own ("# python: 3.11.7"), which no stack line can (folded.hpp). pyprofd
// writes where each profiled process's files were, so that a profile read back later,
// or by a differential of two runs, still knows them (profile_sources.hpp):
//
//   # pyprofd folded stacks: lines starting with '#' are metadata
//   # source: {"pid":4242,"python":"3.11.7","cwd":"/srv/app","stdlib":"/usr/lib/python3.11"}
//
// one "# source:" line per process, the target first; the value is compact JSON, so a
// path holding anything (a newline, bytes that are not UTF-8, which become U+FFFD) stays
// on its line. flamegraph.pl and its kin skip such lines as they skip any line that
// does not end in a count.
#include <optional>
#include <string>
#include <string_view>

#include "render/profile_sources.hpp"

namespace pyprofd::render {

// The header for these sources; empty for none.
std::string folded_header(const ProfileSources& sources);

// Whether a line of folded input is metadata rather than a stack.
inline bool is_folded_metadata(std::string_view line) { return line.starts_with('#'); }

// What a metadata line says of a process's sources: a "# source:" line of pyprofd's,
// or Austin's "# python: VERSION" (a source of pid 0: every stack). nullopt for any
// other line, and for a "# source:" line whose value is not what pyprofd writes.
std::optional<ProcessSources> folded_metadata_source(std::string_view line);

}  // namespace pyprofd::render
