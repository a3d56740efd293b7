// Each decoder against the interpreters' own answers: tests/data/line_tables holds,
// for every code object of sample_code.py, the raw table and the line of each
// instruction as that interpreter reported it (make_line_tables.py).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sampler/layout.hpp"
#include "sampler/line_table.hpp"
#include "tests/support/child_process.hpp"

using namespace pyprofd::sampler;

namespace {

std::vector<std::byte> from_hex(const std::string& hex) {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

}  // namespace

TEST_CASE("line tables decode as each interpreter decodes them") {
    int files = 0;
    for (auto [major, minor] : builtin_layout_versions()) {
        auto path = pyprofd::tests::source_path(
            "tests/data/line_tables/py" + std::to_string(major) + "." + std::to_string(minor) + ".json");
        INFO("data file: " << path);
        REQUIRE(std::filesystem::exists(path));
        ++files;
        auto data = nlohmann::json::parse(std::ifstream(path));
        auto format = builtin_layout(major, minor)->line_table;
        int checked = 0;
        for (const auto& code : data["codes"]) {
            LineTable table(format, from_hex(code["table"]), code["first_line"]);
            for (const auto& pair : code["expect"]) {
                auto offset = pair[0].get<std::uint32_t>();
                int line = pair[1].get<int>();
                INFO("Python " << major << "." << minor << " " << code["name"].get<std::string>()
                               << " offset " << offset);
                CHECK(table.line_at(offset) == line);
                ++checked;
            }
        }
        CHECK(checked > 200);
    }
    CHECK(files == 11);
}

TEST_CASE("a damaged table gives no line rather than a wrong one or a crash") {
    std::vector<std::byte> junk = {std::byte{0x7f}, std::byte{0x01}, std::byte{0xff}};
    LineTable t311(LineTableFormat::locations_311, junk, 10);
    CHECK(t311.line_at(1000) == -1);
    LineTable empty(LineTableFormat::linetable_310, {}, 5);
    CHECK(empty.line_at(0) == -1);
    // co_lnotab covers everything after its last entry.
    LineTable lnotab(LineTableFormat::lnotab_signed, {}, 7);
    CHECK(lnotab.line_at(400) == 7);
}
