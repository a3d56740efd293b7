#include <doctest/doctest.h>

#include "sampler/proc_files.hpp"
#include "sampler/proc_maps.hpp"
#include "sampler/thread_activity.hpp"

using namespace pyprofd::sampler;

TEST_CASE("maps lines are parsed, with deleted files and paths with spaces") {
    auto maps = parse_proc_maps(
        "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/python3.11\n"
        "7f2c4e000000-7f2c4e021000 rw-p 00001000 00:00 0 \n"
        "7f2c4f000000-7f2c4f100000 r--p 00020000 fd:01 42  /tmp/my dir/libpython3.12.so.1.0 (deleted)\n"
        "garbage line\n"
        "7ffd1c3fe000-7ffd1c41f000 rw-p 00000000 00:00 0                          [stack]");
    REQUIRE(maps.size() == 4);
    CHECK(maps[0].start == 0x400000);
    CHECK(maps[0].end == 0x452000);
    CHECK(maps[0].executable());
    CHECK_FALSE(maps[0].writable());
    CHECK(maps[0].inode == 173521);
    CHECK(maps[0].path == "/usr/bin/python3.11");
    CHECK(maps[1].path.empty());
    CHECK(maps[1].offset == 0x1000);
    CHECK(maps[2].path == "/tmp/my dir/libpython3.12.so.1.0");
    CHECK(maps[2].deleted);
    CHECK(maps[3].path == "[stack]");
}

TEST_CASE("thread state letters are read after the last parenthesis of the name") {
    CHECK(parse_stat_state("4242 (python3) R 1 4242 4242 0 -1") == 'R');
    CHECK(parse_stat_state("4243 (a) b) (c) S 1 4242") == 'S');
    CHECK(parse_stat_state("4243 (no end") == 0);
    CHECK(parse_stat_state("") == 0);
    CHECK(stat_after_command("4242 (python3) R 1 4242") == "R 1 4242");
    CHECK(stat_after_command("4243 (a) b) (c) S 1") == "S 1");
    CHECK(stat_after_command("4243 (a)") == "");
    CHECK(stat_after_command("4243 (no end").empty());
}
