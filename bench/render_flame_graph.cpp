// `pyprofd render` on generated folded files of 20,000 and 200,000 distinct
// stacks (depth 10 to 60, about 35 on average, Python-like frame names): time and
// peak memory of the whole process (CPU time, the best of three runs, and wall
// time), and, where flamegraph.pl is at hand, the same
// for it on the same file, the ratios, and whether both drew the same number of
// frames above the minimum width. Prints figures; asserts nothing.
//
//   bench_render_flame_graph PYPROFD_BINARY [FLAMEGRAPH_PL]
//   bench_render_flame_graph --generate STACKS FILE   (only writes the input, for a profiler)
//
// flamegraph.pl is looked for as the argument, then $FLAMEGRAPH_PL, then on PATH.
// It is not part of pyprofd; to measure against it, take it from
// https://github.com/brendangregg/FlameGraph.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "tests/support/scratch_dir.hpp"

namespace {

// A call tree like a real service's: a few entry points, then layers that fan
// out, so that stacks share their roots and differ towards the leaves.
void write_folded(const std::string& path, std::size_t unique_stacks, unsigned seed) {
    std::mt19937_64 random(seed);
    constexpr int functions_per_layer = 400;
    auto frame = [](int depth, int function) {
        return "handler_" + std::to_string(depth) + "_" + std::to_string(function) + " (/srv/app/module_" +
               std::to_string(function % 97) + ".py:" + std::to_string(10 + function % 500) + ")";
    };
    std::vector<std::vector<std::string>> layers(60);
    for (int d = 0; d < 60; ++d)
        for (int f = 0; f < functions_per_layer; ++f) layers[d].push_back(frame(d, f));
    std::unordered_set<std::string> seen;
    std::ofstream out(path);
    std::uniform_int_distribution<int> depth_of(10, 60), count_of(1, 50);
    std::string stack;
    while (seen.size() < unique_stacks) {
        int depth = depth_of(random);
        stack.clear();
        int function = static_cast<int>(random() % 4);
        for (int d = 0; d < depth; ++d) {
            if (d) stack += ';';
            stack += layers[d][function];
            // Each frame calls one of a few functions of the next layer; deeper, more.
            int fan = 2 + d / 6;
            function = (function * 7 + 1 + static_cast<int>(random() % fan)) % functions_per_layer;
        }
        if (!seen.insert(stack).second) continue;
        out << stack << ' ' << count_of(random) << '\n';
    }
}

struct Measured {
    double seconds = 0;      // wall clock
    double cpu_seconds = 0;  // user + system: less disturbed by the other work of a shared machine
    long peak_rss_kib = 0;
    int exit_code = -1;
};

Measured run(const std::vector<std::string>& argv, const std::string& stdin_path, const std::string& stdout_path) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open(stdin_path.c_str(), O_RDONLY);
        int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(in, 0);
        ::dup2(out, 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    Measured m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.peak_rss_kib = usage.ru_maxrss;
    auto to_seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    m.cpu_seconds = to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
    m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return m;
}

// The fastest of a few runs: the machine is shared, the minimum is the least noisy.
Measured best_of(int runs, const std::vector<std::string>& argv, const std::string& in, const std::string& out) {
    Measured best;
    for (int i = 0; i < runs; ++i) {
        auto m = run(argv, in, out);
        if (i == 0 || m.cpu_seconds < best.cpu_seconds) best = m;
    }
    return best;
}

std::size_t count_of(const std::string& path, const std::string& needle) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text, '\0');  // the whole file
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
    return n;
}

std::optional<std::string> find_flamegraph_pl(int argc, char** argv) {
    if (argc > 2) return std::string(argv[2]);
    if (const char* env = std::getenv("FLAMEGRAPH_PL")) return std::string(env);
    if (const char* path = std::getenv("PATH")) {
        std::string dirs = path;
        for (std::size_t start = 0; start <= dirs.size();) {
            auto end = dirs.find(':', start);
            auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / "flamegraph.pl";
            if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "--generate") {
        write_folded(argv[3], std::stoul(argv[2]), 42);
        return 0;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_render_flame_graph PYPROFD_BINARY [FLAMEGRAPH_PL]\n");
        return 2;
    }
    std::string pyprofd = argv[1];
    auto flamegraph_pl = find_flamegraph_pl(argc, argv);
    if (!flamegraph_pl)
        std::printf("flamegraph.pl not found (argument, $FLAMEGRAPH_PL or PATH): pyprofd's figures only\n");
    pyprofd::tests::ScratchDir dir;
    for (std::size_t stacks : {20'000UL, 200'000UL}) {
        auto folded = dir.file("stacks.folded");
        write_folded(folded, stacks, 42);
        auto bytes = std::filesystem::file_size(folded);
        std::printf("\n%zu distinct stacks (%.1f MB of folded input)\n", stacks, static_cast<double>(bytes) / 1e6);
        auto ours = best_of(3, {pyprofd, "render", "-"}, folded, dir.file("ours.svg"));
        // Frames drawn: ours are <g data-s=...>, flamegraph.pl's <g >\n<title>; both count the root.
        auto our_frames = count_of(dir.file("ours.svg"), "<g data-s=");
        std::printf("  pyprofd render:  %7.3f s CPU (%.3f s wall)  peak %7.1f MiB  %zu frames drawn%s\n",
                    ours.cpu_seconds, ours.seconds, static_cast<double>(ours.peak_rss_kib) / 1024, our_frames,
                    ours.exit_code ? "  (FAILED)" : "");
        if (!flamegraph_pl) continue;
        // As many runs as time allows: three on the small file, one on the large.
        auto theirs = best_of(stacks <= 20'000 ? 3 : 1, {"perl", *flamegraph_pl}, folded, dir.file("theirs.svg"));
        auto their_frames = count_of(dir.file("theirs.svg"), "<g >\n<title>");
        std::printf("  flamegraph.pl:   %7.3f s CPU (%.3f s wall)  peak %7.1f MiB  %zu frames drawn%s\n",
                    theirs.cpu_seconds, theirs.seconds, static_cast<double>(theirs.peak_rss_kib) / 1024, their_frames,
                    theirs.exit_code ? "  (FAILED)" : "");
        std::printf("  ratio: %.1fx faster (CPU time; %.1fx wall), %.2f of its memory (targets: 20x, at most 0.20); "
                    "frames drawn %s\n",
                    theirs.cpu_seconds / ours.cpu_seconds, theirs.seconds / ours.seconds,
                    static_cast<double>(ours.peak_rss_kib) / static_cast<double>(theirs.peak_rss_kib),
                    our_frames == their_frames ? "the same" : "DIFFER");
    }
    return 0;
}
