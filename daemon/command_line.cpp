#include "daemon/command_line.hpp"

#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <optional>
#include <string>

#include "daemon/dump_command.hpp"
#include "daemon/record_command.hpp"
#include "daemon/render_command.hpp"

namespace pyprofd::daemon {
namespace {

constexpr std::string_view usage = R"(pyprofd - a sampling profiler for Python processes

Usage:
  pyprofd dump --pid PID [--json]   print every thread's Python stack now
  pyprofd record --pid PID [options]
  pyprofd record [options] -- PROGRAM [ARGS...]
                                    sample a process (or launch one) and write its profile
  pyprofd render [options] [FILE.folded|-]
                                    draw folded stacks (any tool's) as a flame graph,
                                    or turn them into speedscope or pprof
  pyprofd render --diff [options] BEFORE.folded AFTER.folded
                                    a differential flame graph: AFTER's shape,
                                    coloured by each frame's change in share
  pyprofd serve [--config FILE] [--listen ADDR]... [--state-dir DIR]
                                    run the daemon: the HTTP/JSON API on ADDR
                                    (host:port or unix:/path; default 127.0.0.1:8700)
  pyprofd --help                    this text
  pyprofd --version                 the version

Options of record:
  -r, --rate HZ        samples per second (default 100, at most 100000)
  -d, --duration S     seconds to sample (default: until Ctrl-C or the target exits)
  -o, --output FILE    where to write the profile ('-': standard output; default
                       pyprofd-PID-TIME.svg)
  -f, --format F       svg (an interactive flame graph), folded, speedscope (JSON,
                       a profile per thread) or pprof (profile.pb.gz); default:
                       from the file name (.svg .folded .json .pb.gz), else svg
      --idle           include idle threads (waiting or sleeping); left out by default
      --gil            only the thread that holds the GIL
      --threads        a root frame per thread
      --function       one frame per function (line numbers dropped)
      --blocking       pause the target's threads for each sample (exact stacks)
      --nonblocking    read while the target runs (the default)
      --max-stacks N, --max-frames N, --max-label-mb N
                       what the profile may hold (as the daemon's limits.max_profile_*:
                       100000, 1000000, 64); past one, new stacks count under [truncated]

Options of render (output on standard output unless -o):
  -o, --output FILE    where to write ('-': standard output)
  -f, --format F       svg, folded, speedscope or pprof (default: from the file
                       name, else svg)
      --rate HZ            the rate the input was sampled at: speedscope and
                           pprof then give times, not only sample counts
      --title T, --subtitle S, --search TERM (highlighted on opening: text, or /regex/)
      --width PX (1200), --frame-height PX (16), --font-size PX (12), --font NAME
      --minwidth PX|P%     leave out frames narrower than this (default 0.1 px)
      --inverted           an icicle graph: the root at the top
      --unit NAME          what counts are of (default samples)
      --max-stacks N, --max-frames N, --max-label-mb N   as for record

A program launched after '--' never outlives pyprofd: it is ended with its whole
process group when recording ends (duration, Ctrl-C, SIGTERM) or pyprofd dies.

pyprofd reads the target's memory from outside (process_vm_readv): no code is
injected and the target is not stopped. Reading another user's process needs
root or CAP_SYS_PTRACE.
)";

constexpr int exit_usage = 2;

int usage_error(std::string_view message) {
    std::cerr << "pyprofd: " << message << "\nRun 'pyprofd --help' for usage.\n";
    return exit_usage;
}

std::optional<int> parse_pid(std::string_view text) {
    int pid = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc{} || ptr != text.data() + text.size() || pid <= 0) return std::nullopt;
    return pid;
}

int dump(std::span<const std::string_view> args) {
    DumpOptions options;
    std::optional<int> pid;
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto a = args[i];
        if (a == "--json") {
            options.json = true;
        } else if (a == "--pid" || a == "-p") {
            if (i + 1 >= args.size()) return usage_error("--pid needs a process id");
            pid = parse_pid(args[++i]);
            if (!pid) return usage_error(fmt::format("--pid takes a positive number, not '{}'", args[i]));
        } else if (a.starts_with("--pid=")) {
            pid = parse_pid(a.substr(6));
            if (!pid) return usage_error(fmt::format("--pid takes a positive number, not '{}'", a.substr(6)));
        } else {
            return usage_error(fmt::format("dump: unknown argument '{}'", a));
        }
    }
    if (!pid) return usage_error("dump needs --pid PID");
    options.pid = *pid;
    return run_dump(options);
}

}  // namespace

int run_command_line(std::span<const std::string_view> args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << usage;
        return args.empty() ? exit_usage : 0;
    }
    if (args[0] == "--version") {
        std::cout << "pyprofd " << PYPROFD_VERSION << "\n";
        return 0;
    }
    if (args[0] == "dump") return dump(args.subspan(1));
    if (args[0] == "render") {
        auto options = parse_render_arguments(args.subspan(1));
        if (!options) return usage_error(options.error());
        return run_render(*options);
    }
    if (args[0] == "record") {
        auto options = parse_record_arguments(args.subspan(1));
        if (!options) return usage_error(options.error());
        return run_record(*options);
    }
    return usage_error(fmt::format("unknown command '{}'", args[0]));
}

}  // namespace pyprofd::daemon
