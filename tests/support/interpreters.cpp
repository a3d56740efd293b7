#include "tests/support/interpreters.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;

namespace pyprofd::tests {
namespace {

// The families the project promises to read; a missing one is reported as skipped.
const std::vector<std::string> expected_pyenv = {"2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"};
const std::vector<std::string> expected_system = {"3.11"};
// Debian sid's, in the root of scripts/make-sid-root: the versions Debian 12 lacks.
const std::vector<std::string> expected_sid = {"3.14", "3.15"};

std::string pyenv_root() {
    if (const char* env = std::getenv("PYENV_ROOT"); env && fs::is_directory(env)) return env;
    if (FILE* p = ::popen("pyenv root 2>/dev/null", "r")) {
        char buf[4096] = {};
        std::string out = std::fgets(buf, sizeof buf, p) ? buf : "";
        ::pclose(p);
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        if (!out.empty() && fs::is_directory(out)) return out;
    }
    if (const char* home = std::getenv("HOME"); home && fs::is_directory(fs::path(home) / ".pyenv"))
        return (fs::path(home) / ".pyenv").string();
    return {};
}

bool parse_family(const std::string& text, int& major, int& minor) {
    return std::sscanf(text.c_str(), "%d.%d", &major, &minor) == 2;
}

std::vector<Interpreter> discover() {
    std::vector<Interpreter> found;
    if (auto root = pyenv_root(); !root.empty() && fs::is_directory(fs::path(root) / "versions")) {
        for (const auto& entry : fs::directory_iterator(fs::path(root) / "versions")) {
            std::string version = entry.path().filename().string();
            Interpreter py;
            if (!parse_family(version, py.major, py.minor)) continue;
            std::string family = std::to_string(py.major) + "." + std::to_string(py.minor);
            auto exe = entry.path() / "bin" / ("python" + family);
            if (!fs::exists(exe)) continue;
            py.label = "pyenv " + version;
            py.executable = exe.string();
            for (auto suffix : {"", "m"}) {
                auto inc = entry.path() / "include" / ("python" + family + suffix);
                if (fs::exists(inc / "Python.h")) py.include_dir = inc.string();
            }
            found.push_back(py);
        }
    }
    for (const auto& family : expected_system) {
        fs::path exe = "/usr/bin/python" + family;
        if (!fs::exists(exe) || fs::is_symlink(exe)) continue;
        Interpreter py;
        parse_family(family, py.major, py.minor);
        py.label = "debian " + family;
        py.executable = exe.string();
        if (fs::exists("/usr/include/python" + family + "/Python.h")) py.include_dir = "/usr/include/python" + family;
        found.push_back(py);
    }
    const fs::path root = sid_root();
    for (const auto& family : expected_sid) {
        fs::path exe = "/usr/bin/python" + family;
        if (!fs::exists(root / exe.relative_path()) || fs::is_symlink(root / exe.relative_path())) continue;
        Interpreter py;
        parse_family(family, py.major, py.minor);
        py.label = "debian-sid " + family;
        py.executable = exe.string();
        py.root = root.string();
        auto include = root / "usr/include" / ("python" + family);
        if (fs::exists(include / "Python.h")) {
            py.include_dir = include.string();
            py.arch_include_dir = (root / "usr/include").string();
        }
        found.push_back(py);
    }
    std::ranges::sort(found, [](const auto& a, const auto& b) {
        return std::tie(a.major, a.minor, a.label) < std::tie(b.major, b.minor, b.label);
    });

    std::cout << "Interpreters found:";
    for (const auto& py : found) std::cout << " [" << py.label << "]";
    std::cout << "\n";
    std::set<std::string> present;
    for (const auto& py : found)
        present.insert(py.label.substr(0, py.label.find(' ')) + " " + std::to_string(py.major) + "." + std::to_string(py.minor));
    std::string skipped;
    for (const auto& f : expected_pyenv)
        if (!present.contains("pyenv " + f)) skipped += " [pyenv " + f + "]";
    for (const auto& f : expected_system)
        if (!present.contains("debian " + f)) skipped += " [debian " + f + "]";
    for (const auto& f : expected_sid)
        if (!present.contains("debian-sid " + f)) skipped += " [debian-sid " + f + " in " + root.string() + "]";
    if (!skipped.empty() && interpreters_required())
        throw std::runtime_error("Interpreters MISSING, and CI requires every one:" + skipped +
                                 " (install them with pyenv, Debian's python3.11, and scripts/make-sid-root for "
                                 "3.14 and 3.15; locally, without CI set, the tests skip them)");
    std::cout << "Interpreters SKIPPED (not installed):" << (skipped.empty() ? " none" : skipped) << "\n";
    return found;
}

}  // namespace

std::string sid_root() {
    if (const char* env = std::getenv("PYPROFD_SID_ROOT"); env && *env) return env;
    return "/var/cache/pyprofd/sid-root";
}

std::vector<std::string> Interpreter::command(const std::vector<std::string>& args, std::string cwd,
                                              std::optional<uid_t> run_as) const {
    std::vector<std::string> argv;
    if (in_chroot()) {
        std::string userspec = run_as ? std::to_string(*run_as) + ":" + std::to_string(*run_as) : "";
        argv = {"unshare", "--mount", "--propagation", "private", "--", "sh",
                source_path("tests/support/run_in_root.sh"), root, userspec, cwd,
                PYPROFD_SOURCE_DIR, "/tmp", "--"};
    }
    argv.push_back(executable);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

SpawnOptions Interpreter::spawn(const std::vector<std::string>& args, std::string cwd,
                                std::optional<uid_t> run_as) const {
    SpawnOptions o;
    if (in_chroot()) {
        // Root until the chroot, which then becomes run_as; it starts in cwd itself.
        o.argv = command(args, cwd, run_as);
    } else {
        o.argv = command(args);
        o.cwd = std::move(cwd);
        o.run_as = run_as;
    }
    return o;
}

bool interpreters_required() {
    const char* ci = std::getenv("CI");
    if (!ci) return false;
    std::string value = ci;
    return !value.empty() && value != "0" && value != "false";
}

const std::vector<Interpreter>& interpreters() {
    static const std::vector<Interpreter> all = discover();
    return all;
}

std::vector<Interpreter> one_of_each_frame_model() {
    std::vector<Interpreter> out;
    for (const auto& py : interpreters())
        if (std::ranges::none_of(out, [&](const auto& o) { return o.at_least(3, 11) == py.at_least(3, 11); }))
            out.push_back(py);
    return out;
}

}  // namespace pyprofd::tests
