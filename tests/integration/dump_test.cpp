// `pyprofd dump` against every real interpreter on the machine.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <utility>

#include "sampler/python_process.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd::tests;
using nlohmann::json;

namespace {

std::string family(const Interpreter& py) { return std::to_string(py.major) + "." + std::to_string(py.minor); }

std::vector<std::string> function_names(const json& thread) {
    std::vector<std::string> out;
    for (const auto& f : thread["frames"]) out.push_back(f["function"]);
    return out;
}

}  // namespace

TEST_CASE("a recursing target gives exactly its stack, with line numbers") {
    const int depth = 25;
    auto file = target_path("deep.py");
    int leaf_loop = line_of(file, "leaf-loop"), descend_leaf = line_of(file, "descend-leaf"),
        descend_recurse = line_of(file, "descend-recurse"), module_call = line_of(file, "module-call");
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {file, std::to_string(depth)});
            REQUIRE(target.ready);
            auto dump = dump_until(target.pid(), [&](const json& d) {
                auto t = thread_with_id(d, target.pid());
                return innermost_is(d, target.pid(), "leaf", leaf_loop) && t && (*t)["holds_gil"] == true;
            });
            CHECK(dump["pid"] == target.pid());
            CHECK(dump["python"]["version"].get<std::string>().starts_with(family(py) + "."));
            auto main = thread_with_id(dump, target.pid());
            REQUIRE_MESSAGE(main, "no main thread in " << dump.dump(2));
            CHECK((*main)["name"] == "MainThread");
            CHECK((*main)["activity"] == "running");
            CHECK((*main)["holds_gil"] == true);
            CHECK((*main)["error"].is_null());
            const auto& frames = (*main)["frames"];
            REQUIRE(frames.size() == static_cast<std::size_t>(depth + 3));
            CHECK(frames[0]["function"] == "leaf");
            CHECK(frames[0]["line"] == leaf_loop);
            CHECK(frames[1]["function"] == "descend");
            CHECK(frames[1]["line"] == descend_leaf);
            for (int i = 2; i < depth + 2; ++i) {
                INFO("frame " << i);
                CHECK(frames[i]["function"] == "descend");
                CHECK(frames[i]["line"] == descend_recurse);
            }
            CHECK(frames[depth + 2]["function"] == "<module>");
            CHECK(frames[depth + 2]["line"] == module_call);
            for (const auto& f : frames) CHECK(f["filename"].get<std::string>().ends_with("tests/targets/deep.py"));
        }
    }
}

TEST_CASE("the text form is py-spy's") {
    auto file = target_path("deep.py");
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {file, "3"});
            REQUIRE(target.ready);
            auto r = run_dump(target.pid(), false);
            REQUIRE(r.exit_code == 0);
            CHECK(r.out.starts_with("Process " + std::to_string(target.pid()) + ": " + py.executable + " " + file + " 3\n"));
            CHECK(r.out.find("\nPython v" + family(py) + ".") != std::string::npos);
            CHECK(r.out.find("\nThread " + std::to_string(target.pid()) + " (") != std::string::npos);
            CHECK(r.out.find("\"MainThread\"\n") != std::string::npos);
            CHECK(r.out.find("    descend (" + file + ":") != std::string::npos);
        }
    }
}

TEST_CASE("every thread is shown with its threading name and its own OS thread id") {
    std::vector<std::string> names = {"worker-1", "worker-2", "pool thread 3", "x"};
    auto file = target_path("named_threads.py");
    int worker_wait = line_of(file, "worker-wait");
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            std::vector<std::string> args = {file};
            args.insert(args.end(), names.begin(), names.end());
            Target target(py, args);
            REQUIRE(target.ready);
            // Until every worker waits, and reads as idle: a worker may still be
            // runnable for a while after the last dump let it go on (a blocking dump
            // stops every thread), longer on a loaded host, as a thread in 'R' is.
            auto dump = dump_until(target.pid(), [&](const json& d) {
                int waiting = 0;
                for (const auto& t : d["threads"])
                    for (const auto& f : t["frames"]) waiting += f["line"] == worker_wait && t["activity"] == "idle";
                return waiting == static_cast<int>(names.size());
            });
            std::set<std::string> seen;
            std::set<pid_t> tids;
            for (const auto& t : dump["threads"]) {
                if (t["name"].is_string()) seen.insert(t["name"]);
                REQUIRE(t["native_id"].is_number());
                tids.insert(t["native_id"].get<pid_t>());
                CHECK(t["error"].is_null());
            }
            CHECK(dump["threads"].size() == names.size() + 1);
            for (const auto& n : names) CHECK_MESSAGE(seen.contains(n), "missing thread " << n);
            CHECK(seen.contains("MainThread"));
            CHECK(tids.size() == names.size() + 1);
            CHECK(tids.contains(target.pid()));
            for (auto tid : tids)
                CHECK(std::filesystem::exists("/proc/" + std::to_string(target.pid()) + "/task/" + std::to_string(tid)));
            for (const auto& t : dump["threads"]) {
                if (t["name"] == "MainThread") continue;
                CHECK(t["activity"] == "idle");
                CHECK(t["holds_gil"] == false);
                auto fs = function_names(t);
                CHECK(std::ranges::find_if(fs, [](const std::string& f) { return f.ends_with("wait_for_stop"); }) != fs.end());
            }
        }
    }
}

TEST_CASE("non-ASCII function, file and thread names come out as UTF-8") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            auto file = target_path(py.major == 2 ? "unicode_py2_名前.py" : "unicode_名前.py");
            std::string function = py.major == 2 ? "compute" : "計算する";
            Target target(py, {file});
            REQUIRE(target.ready);
            int loop = line_of(file, "unicode-loop");
            // Python 2.7 lets start() return before the new thread is in threading._active
            // (it is still in _limbo, with no name to read): wait for both.
            auto named_worker = [](const json& d) {
                return std::ranges::any_of(d["threads"], [](const json& t) { return t["name"] == "作業者-1"; });
            };
            auto dump = dump_until(target.pid(), [&](const json& d) {
                return innermost_is(d, target.pid(), function, loop) && named_worker(d);
            });
            auto main = thread_with_id(dump, target.pid());
            REQUIRE(main);
            CHECK((*main)["frames"][0]["function"] == function);
            CHECK((*main)["frames"][0]["filename"] == file);
            CHECK((*main)["frames"][1]["line"] == line_of(file, "unicode-call"));
            CHECK_MESSAGE(named_worker(dump), dump.dump(2));
            // The text form too.
            auto text = run_dump(target.pid(), false);
            CHECK(text.out.find("    " + function + " (" + file + ":" + std::to_string(loop) + ")") != std::string::npos);
            CHECK(text.out.find("\"作業者-1\"") != std::string::npos);
        }
    }
}

TEST_CASE("<lambda>, <genexpr>, <listcomp> and <module> frames come out as such") {
    auto file = target_path("special_names.py");
    int spin_loop = line_of(file, "spin-loop"), lambda_call = line_of(file, "lambda-call");
    for (const auto& py : interpreters()) {
        for (std::string mode : {"genexpr", "listcomp"}) {
            SUBCASE((py.label + " " + mode).c_str()) {
                Target target(py, {file, mode});
                REQUIRE(target.ready);
                auto dump = dump_until(target.pid(), [&](const json& d) { return innermost_is(d, target.pid(), "spin", spin_loop); });
                auto main = thread_with_id(dump, target.pid());
                REQUIRE(main);
                auto names = function_names(*main);
                std::vector<std::string> expected = {"spin", "<lambda>", "<" + mode + ">", "<module>"};
                // List comprehensions have a frame of their own only from 3.0 to 3.11:
                // Python 2 and 3.12+ (PEP 709) run them inline.
                if (mode == "listcomp" && (py.major == 2 || py.at_least(3, 12)))
                    expected = {"spin", "<lambda>", "<module>"};
                INFO("frames: " << nlohmann::json(names).dump());
                CHECK(names == expected);
                const auto& frames = (*main)["frames"];
                if (frames.size() >= 2) CHECK(frames[1]["line"] == lambda_call);
                CHECK(frames.back()["line"] == line_of(file, mode + "-call"));
            }
        }
    }
}

TEST_CASE("a coroutine running under asyncio shows its frames") {
    auto file = target_path("coroutine.py");
    int inner_loop = line_of(file, "inner-loop"), outer_await = line_of(file, "outer-await");
    for (const auto& py : interpreters()) {
        if (!py.at_least(3, 6)) {
            static bool said = false;
            if (!std::exchange(said, true))
                std::cout << "asyncio: SKIPPED " << py.label << ": no asyncio and no async def in Python 2\n";
            continue;
        }
        SUBCASE(py.label.c_str()) {
            Target target(py, {file});
            REQUIRE(target.ready);
            auto dump = dump_until(target.pid(), [&](const json& d) { return innermost_is(d, target.pid(), "inner", inner_loop); });
            auto main = thread_with_id(dump, target.pid());
            REQUIRE(main);
            const auto& frames = (*main)["frames"];
            REQUIRE(frames.size() > 3);
            CHECK(frames[0]["function"] == "inner");
            CHECK(frames[1]["function"] == "outer");
            CHECK(frames[1]["line"] == outer_await);
            auto names = function_names(*main);
            CHECK(std::ranges::find_if(names, [](const std::string& n) { return n.ends_with("run_until_complete"); }) != names.end());
            CHECK(names.back() == "<module>");
        }
    }
}

TEST_CASE("3.13+ layouts come from the target's own _Py_DebugOffsets and agree with our table where it has them") {
    for (const auto& py : interpreters()) {
        if (!py.at_least(3, 13)) continue;
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("deep.py"), "1"});
            REQUIRE(target.ready);
            auto process = pyprofd::sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            CHECK(process->layout_source() == pyprofd::sampler::LayoutSource::debug_offsets);
            auto builtin = pyprofd::sampler::builtin_layout(py.major, py.minor);
            REQUIRE(builtin);
            // 3.14+ rows hold only what the table lacks: compared where the row has a value.
            std::map<std::string, int> ours;
            builtin->for_each_offset([&](std::string_view n, int v) { ours[std::string(n)] = v; });
            process->layout().for_each_offset([&](std::string_view n, int v) {
                INFO(n);
                if (ours[std::string(n)] != pyprofd::sampler::absent || !py.at_least(3, 14)) CHECK(v == ours[std::string(n)]);
            });
        }
    }
}

TEST_CASE("a Python in a chroot is read through its own root, and its paths are reported as it sees them") {
    int checked = 0;
    for (const auto& py : interpreters()) {
        if (!py.in_chroot()) continue;
        SUBCASE(py.label.c_str()) {
            auto file = target_path("deep.py");
            Target target(py, {file, "1"});
            REQUIRE(target.ready);
            auto r = run_dump(target.pid());
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            auto dump = nlohmann::json::parse(r.out);
            // /usr/bin/python3.14, not the root's path on the host.
            CHECK(dump["executable"] == py.executable);
            CHECK(dump["python"]["binary"] == py.executable);
            CHECK(dump["python"]["layout_source"] == "_Py_DebugOffsets");
            CHECK(dump["command_line"][0] == py.executable);
            auto text = run_dump(target.pid(), false);
            CHECK(text.out.find("\nPython v" + family(py) + "." ) != std::string::npos);
            CHECK(text.out.find(" (" + py.executable + ")\n") != std::string::npos);
            CHECK(text.out.find(py.root) == std::string::npos);
        }
        ++checked;
    }
    if (checked == 0) MESSAGE("chroot: no interpreter in a root found (scripts/make-sid-root makes one)");
}
