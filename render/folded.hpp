#pragma once
// Folded stacks, Brendan Gregg's format that flamegraph.pl, inferno, speedscope
// and py-spy's raw output share: one line per distinct stack, frames root first
// separated by ';', a space, then the sample count. Lines that start with '#' are
// metadata, never stacks (folded_header.hpp): a root frame whose label starts so is
// written with U+FF03 "＃" for its '#'.
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "render/profile.hpp"
#include "render/profile_sources.hpp"

namespace pyprofd::render {

// Writes every stack of the profile with its own (self) samples, children in the
// order they were first seen. Labels are written as safe_label_text() makes them
// (label_text.hpp): whatever they hold, one stack is one line of its own frames.
void write_folded(const Profile& profile, std::ostream& out);

// What of a profile has been written as folded stacks so far: the samples of each
// stack written. A profile's nodes keep their ids as it grows, and a stack's
// samples only grow, so what was added since is a difference per stack.
struct FoldedWritten {
    std::vector<std::uint64_t> self_by_node;
    std::uint64_t samples = 0;
};

// Writes a line for each stack with samples not written yet (every stack, the
// first time), counting only those, in write_folded's order, and records them in
// `written`. Folded stacks may hold a stack on several lines; every reader adds
// them up, so the lines written so far, read together, give the whole profile.
// How checkpoints append instead of writing a whole profile again. Returns the
// bytes written.
std::uint64_t write_folded_since(const Profile& profile, FoldedWritten& written, std::ostream& out);

struct FoldedReadError {
    std::size_t line = 0;
    std::string message;
};

// Adds the stacks of folded input to profile. Blank lines are skipped, and so are
// metadata lines (those that start with '#', anywhere in the input); where `sources`
// is given, what the metadata says of the processes' sources is appended to it (a
// "# source:" line it cannot read is left out: the stacks are all read still). A line
// without a count is an error naming its number, and nothing of the input is lost
// silently: on error the profile holds the lines before it.
std::optional<FoldedReadError> read_folded(std::istream& in, Profile& profile, ProfileSources* sources = nullptr);

}  // namespace pyprofd::render
