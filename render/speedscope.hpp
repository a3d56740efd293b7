#pragma once
// speedscope's file format (https://www.speedscope.app/file-format-schema.json):
// one "sampled" profile per thread over one shared frame table, so speedscope shows
// each thread on its own and a function is one frame whatever thread ran it.
#include <optional>
#include <ostream>
#include <string>

#include "render/profile.hpp"

namespace pyprofd::render {

struct SpeedscopeOptions {
    std::string name = "pyprofd";     // the file's name in speedscope's title bar
    std::optional<double> rate_hz;   // known: weights in milliseconds; else in samples
};

// Threads are the profile's thread root frames (thread "name" (tid)); stacks outside
// any thread go to one more profile named after the file. Each distinct stack is one
// weighted sample.
void write_speedscope(const Profile& profile, const SpeedscopeOptions& options, std::ostream& out);

}  // namespace pyprofd::render
