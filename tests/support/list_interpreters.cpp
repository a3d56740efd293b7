// Prints which interpreters the tests will run against and which are skipped;
// `make test` runs it first so the list is in every test log, and so that a CI
// machine without every expected interpreter stops there, saying which.
//
// list_interpreters --json ARG...: for the daemon's Python tests, a JSON list of
// every interpreter found, each with the command that runs it with those arguments
// (through its chroot, where it has one): {"label", "major", "minor", "executable",
// "command"}. The list of found and skipped ones then goes to stderr.
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/interpreters.hpp"

int main(int argc, char** argv) {
    const bool json = argc > 1 && std::string_view(argv[1]) == "--json";
    std::streambuf* out = std::cout.rdbuf();
    if (json) std::cout.rdbuf(std::cerr.rdbuf());  // the lists of found and skipped ones
    try {
        const auto& all = pyprofd::tests::interpreters();
        if (!json) return 0;
        std::cout.rdbuf(out);
        std::vector<std::string> args(argv + 2, argv + argc);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& py : all)
            list.push_back({{"label", py.label}, {"major", py.major}, {"minor", py.minor},
                            {"executable", py.executable}, {"command", py.command(args)}});
        std::cout << list.dump() << "\n";
    } catch (const std::exception& e) {
        std::cout.rdbuf(out);
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
