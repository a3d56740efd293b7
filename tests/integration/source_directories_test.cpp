// Where each real interpreter's files are named from, found from outside at attach,
// against what the interpreter itself says: os.getcwd() and os.__file__'s directory.
// The Debian sid ones run chrooted, and must be told by their own paths.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "sampler/python_process.hpp"
#include "tests/integration/dump_support.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;

namespace {

// The value of the target's "name=value" line.
std::string said(const std::string& output, const std::string& name) {
    auto start = output.find(name + "=");
    if (start == std::string::npos) return "(not said)";
    start += name.size() + 1;
    return output.substr(start, output.find('\n', start) - start);
}

}  // namespace

TEST_CASE("every interpreter's working directory and standard library, as it sees them") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            ScratchDir dir;  // under /tmp, which a chrooted one sees at the same path
            std::filesystem::create_directory(dir.path / "app");
            const std::string cwd = (dir.path / "app").string();
            Target target(py, {target_path("prints_sources.py")}, cwd);
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            const auto& output = target.child.output();
            // Exactly, with no realpath on either side: /tmp and the pyenv and Debian
            // trees here hold no symbolic links on the way, so both name the same path.
            CHECK(said(output, "cwd") == cwd);
            CHECK(process->working_directory() == said(output, "cwd"));
            CHECK(process->standard_library() == said(output, "stdlib"));
            CHECK(process->standard_library().ends_with("/python" + std::to_string(py.major) + "." +
                                                        std::to_string(py.minor)));
            if (py.in_chroot()) {
                CHECK(process->standard_library() == "/usr/lib/python" + std::to_string(py.major) + "." +
                                                         std::to_string(py.minor));
                CHECK(process->standard_library().find(py.root) == std::string::npos);
            }
        }
    }
}

TEST_CASE("a chrooted interpreter started at its root is at \"/\", not at the root's host path") {
    int checked = 0;
    for (const auto& py : interpreters()) {
        if (!py.in_chroot()) continue;
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("prints_sources.py")}, "/");
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            CHECK(said(target.child.output(), "cwd") == "/");
            CHECK(process->working_directory() == "/");
        }
        ++checked;
    }
    if (checked == 0) MESSAGE("chroot: no interpreter in a root found (scripts/make-sid-root makes one)");
}
