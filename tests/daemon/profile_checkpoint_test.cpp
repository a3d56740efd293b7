// A running session's checkpoints append what changed instead of writing the whole
// profile again, stay within a small multiple of the profile on disk, and always
// read back as the profile they were taken from; a line that a crash cut short is
// left out at load, and said so. Every file is in the test's own scratch directory.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/profile_checkpoint.hpp"
#include "daemon/session_store.hpp"
#include "render/folded.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using pyprofd::tests::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string folded(const render::Profile& profile) {
    std::ostringstream out;
    render::write_folded(profile, out);
    return out.str();
}

// The profile a file reads back as, as folded stacks with one line per stack.
std::string read_back(const std::string& path) {
    render::Profile profile;
    std::ifstream in(path, std::ios::binary);
    auto error = render::read_folded(in, profile);
    REQUIRE_MESSAGE(!error, (error ? error->message : ""));
    return folded(profile);
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

void add(render::Profile& profile, const std::vector<std::string>& stack, std::uint64_t count = 1) {
    profile.add_labels(std::span<const std::string>(stack), count);
}

}  // namespace

TEST_CASE("a checkpoint appends only the stacks that gained samples, and the file reads back as the profile") {
    ScratchDir dir;
    auto path = dir.file("s.folded");
    render::Profile profile;
    for (int i = 0; i < 200; ++i) add(profile, {"thread", "main (app.py:1)", "work_" + std::to_string(i) + " (app.py:9)"});
    daemon::ProfileCheckpoint checkpoint;
    REQUIRE(checkpoint.save(path, profile, 0600));
    auto whole = read_file(path);
    CHECK(whole == folded(profile));
    CHECK(checkpoint.whole_bytes() == whole.size());
    auto inode = inode_of(path);

    // Two stacks change, one is new: three lines are appended, with what was added.
    add(profile, {"thread", "main (app.py:1)", "work_7 (app.py:9)"}, 5);
    add(profile, {"thread", "main (app.py:1)", "work_9 (app.py:9)"}, 2);
    add(profile, {"thread", "main (app.py:1)", "fresh (app.py:20)"}, 1);
    REQUIRE(checkpoint.save(path, profile, 0600));
    auto after = read_file(path);
    REQUIRE(after.starts_with(whole));
    CHECK(after.substr(whole.size()) ==
          "thread;main (app.py:1);work_7 (app.py:9) 5\n"
          "thread;main (app.py:1);work_9 (app.py:9) 2\n"
          "thread;main (app.py:1);fresh (app.py:20) 1\n");
    CHECK(inode_of(path) == inode);  // appended to, not replaced
    CHECK(read_back(path) == folded(profile));

    // Nothing new: nothing written.
    REQUIRE(checkpoint.save(path, profile, 0600));
    CHECK(read_file(path) == after);
}

TEST_CASE("appended lines are compacted once they pass the last whole write, so the file stays near the profile") {
    ScratchDir dir;
    auto path = dir.file("s.folded");
    render::Profile profile;
    // Stacks whose labels are long, every one gaining samples at every checkpoint:
    // the worst case for appending.
    std::vector<std::vector<std::string>> stacks;
    for (int i = 0; i < 50; ++i)
        stacks.push_back({"thread", std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i) + " (app.py:1)"});
    for (const auto& s : stacks) add(profile, s);
    daemon::ProfileCheckpoint checkpoint;
    REQUIRE(checkpoint.save(path, profile, 0600));
    std::uint64_t largest = 0;
    int whole_writes = 0;
    for (int round = 0; round < 100; ++round) {
        for (const auto& s : stacks) add(profile, s);
        auto before = checkpoint.appended_bytes();
        REQUIRE(checkpoint.save(path, profile, 0600));
        if (checkpoint.appended_bytes() < before) ++whole_writes;
        largest = std::max<std::uint64_t>(largest, fs::file_size(path));
        CHECK(read_back(path) == folded(profile));
    }
    auto compact = folded(profile).size();
    CHECK(whole_writes >= 1);
    CHECK(largest <= 2 * compact + daemon::ProfileCheckpoint::min_appended_before_compacting + compact);
    CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("a checkpoint does not append through a link planted in the file's place") {
    ScratchDir dir;
    auto path = dir.file("s.folded");
    auto other = dir.file("other");
    std::ofstream(other) << "not yours\n";
    render::Profile profile;
    add(profile, {"thread", "main (app.py:1)"});
    daemon::ProfileCheckpoint checkpoint;
    REQUIRE(checkpoint.save(path, profile, 0600));
    fs::remove(path);
    fs::create_symlink(other, path);
    add(profile, {"thread", "main (app.py:1)"});
    auto appended = checkpoint.save(path, profile, 0600);
    REQUIRE_FALSE(appended);
    CHECK(appended.error().find("s.folded") != std::string::npos);
    CHECK(read_file(other) == "not yours\n");
    // The next checkpoint would write it whole, and refuses the link too.
    auto whole = checkpoint.save(path, profile, 0600);
    REQUIRE_FALSE(whole);
    CHECK(whole.error().find("symbolic link") != std::string::npos);
    CHECK(read_file(other) == "not yours\n");
    fs::remove(path);
    REQUIRE(checkpoint.save(path, profile, 0600));
    CHECK(read_back(path) == folded(profile));
}

TEST_CASE("a saved profile whose last line a crash cut short loads without it, and says so") {
    ScratchDir dir;
    auto store = daemon::SessionStore::open(dir.file("state"));
    REQUIRE(store);
    const std::string id = "0123456789abcdef";
    auto path = store->directory() + "/" + id + ".folded";
    std::ofstream(path) << "thread;main (app.py:1) 10\nthread;main (app.py:1);work (app.py:3) 4\nthread;main (app.py:1);wo";
    auto loaded = store->load_profile(id);
    CHECK(loaded.profile.total_samples() == 14);
    CHECK(loaded.problem.find("cut short") != std::string::npos);

    std::ofstream(path) << "thread;main (app.py:1) 10\nthread;main (app.py:1) 4\n";
    auto whole = store->load_profile(id);
    CHECK(whole.profile.total_samples() == 14);  // a stack on two lines: their sum
    CHECK(whole.problem.empty());
}
