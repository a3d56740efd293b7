#pragma once
// Folded stacks, Brendan Gregg's format that flamegraph.pl, inferno, speedscope
// and py-spy's raw output share: one line per distinct stack, frames root first
// separated by ';', a space, then the sample count.
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "render/profile.hpp"

namespace pyprofd::render {

// Writes every stack of the profile with its own (self) samples, children in the
// order they were first seen. Labels are written as safe_label_text() makes them
// (label_text.hpp): whatever they hold, one stack is one line of its own frames.
void write_folded(const Profile& profile, std::ostream& out);

struct FoldedReadError {
    std::size_t line = 0;
    std::string message;
};

// Adds the stacks of folded input to profile. Blank lines are skipped; a line
// without a count is an error naming its number, and nothing of the input is lost
// silently: on error the profile holds the lines before it.
std::optional<FoldedReadError> read_folded(std::istream& in, Profile& profile);

}  // namespace pyprofd::render
