#pragma once
// Writing output where the user pointed it (record -o, render -o) without harming
// what is there. What the name leads to, its symbolic links followed, decides:
//   - a regular file, or nothing: replaced (or created) atomically, the real file
//     and not a link to it, so the link stays;
//   - a character device, a FIFO, or a descriptor of ours (/dev/stdout,
//     /dev/stderr, /dev/fd/N, /proc/self/fd/N): written in place, never truncated,
//     no temporary file beside it;
//   - a directory, a block device, a socket: refused, saying so.
#include <expected>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace pyprofd::cli {

// A FIFO is written once a reader opens it, as with the shell's `>`: while none
// has, `waiting` is called once and `give_up` asked every 0.1 s (pyprofd record
// blocks Ctrl-C, so waiting must end when it asks).
struct ReaderWait {
    std::function<void()> waiting;
    std::function<bool()> give_up;
};

// write() streams the contents; the error says which file and why.
std::expected<void, std::string> write_output_file(const std::string& path,
                                                   const std::function<void(std::ostream&)>& write,
                                                   const ReaderWait& wait = {});

// What write_output_file() can tell before writing, without writing or opening
// anything for writing: the same error (a directory, a missing directory, ...),
// or nothing. For a long recording, before it starts.
std::expected<void, std::string> check_output_file(const std::string& path);

// To a descriptor pyprofd holds, e.g. standard output, which stays open; `name`
// says which for errors ("standard output").
std::expected<void, std::string> write_to_descriptor(int fd, std::string_view name,
                                                     const std::function<void(std::ostream&)>& write);

}  // namespace pyprofd::cli
