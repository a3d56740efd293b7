// Folded stacks' metadata: pyprofd's "# source:" header, Austin's "# python:", and
// lines starting with '#' anywhere, which are never stacks.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "render/folded.hpp"
#include "render/folded_header.hpp"
#include "render/output_format.hpp"
#include "render/profile.hpp"

using namespace pyprofd::render;

namespace {

std::string folded(const Profile& p) {
    std::ostringstream out;
    write_folded(p, out);
    return out.str();
}

std::string folded_with(const Profile& p, const ProfileSources& sources) {
    OutputDetails details;
    details.sources = sources;
    auto text = profile_as(OutputFormat::folded, p, details);
    REQUIRE(text);
    return *text;
}

Profile sample_profile() {
    Profile p;
    p.add_labels(std::vector<std::string>{"process 4242 (python app.py)", "thread (1)", "main (app.py:3)"}, 5);
    p.add_labels(std::vector<std::string>{"process 4243 (python app.py)", "thread (2)", "work (lib.py:9)"}, 2);
    return p;
}

const ProfileSources two_processes = {
    {.pid = 4242, .python_version = "3.11.7", .working_directory = "/srv/app", .standard_library = "/usr/lib/python3.11"},
    {.pid = 4243, .python_version = "3.11.7", .working_directory = "/srv/app/worker",
     .standard_library = "/usr/lib/python3.11"},
};

}  // namespace

TEST_CASE("the header names each process's sources, before the stacks") {
    auto text = folded_with(sample_profile(), two_processes);
    CHECK(text ==
          "# pyprofd folded stacks: lines starting with '#' are metadata\n"
          "# source: {\"pid\":4242,\"python\":\"3.11.7\",\"cwd\":\"/srv/app\",\"stdlib\":\"/usr/lib/python3.11\"}\n"
          "# source: {\"pid\":4243,\"python\":\"3.11.7\",\"cwd\":\"/srv/app/worker\",\"stdlib\":\"/usr/lib/python3.11\"}\n" +
              folded(sample_profile()));
}

TEST_CASE("no sources, no header: the stacks as before") {
    auto text = folded_with(sample_profile(), {});
    CHECK(text == folded(sample_profile()));
    CHECK(text.find('#') == std::string::npos);
    CHECK(folded_header({}) == "");
}

TEST_CASE("written with sources and read back: the same sources and the same stacks") {
    auto original = sample_profile();
    std::istringstream in(folded_with(original, two_processes));
    Profile back;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, back, &sources));
    CHECK(sources == two_processes);
    CHECK(folded(back) == folded(original));
    CHECK(back.total_samples() == 7);
    // A reader that does not ask for them reads the same stacks.
    std::istringstream again(folded_with(original, two_processes));
    Profile plain;
    REQUIRE_FALSE(read_folded(again, plain));
    CHECK(folded(plain) == folded(original));
}

TEST_CASE("a process's unknown fields stay empty on the way") {
    ProfileSources unknown = {{.pid = 7}};
    std::istringstream in(folded_with(sample_profile(), unknown));
    Profile back;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, back, &sources));
    CHECK(sources == unknown);
}

TEST_CASE("paths hold anything: a newline stays in its line, bytes not UTF-8 become U+FFFD, nothing throws") {
    ProfileSources odd = {{.pid = 1,
                           .python_version = "2.7.18",
                           .working_directory = "/srv/a\nb 3",
                           .standard_library = std::string("/opt/\xff\xfe/lib/python2.7")}};
    auto header = folded_header(odd);
    CHECK(std::count(header.begin(), header.end(), '\n') == 2);
    std::istringstream in(folded_with(sample_profile(), odd));
    Profile back;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, back, &sources));
    REQUIRE(sources.size() == 1);
    CHECK(sources[0].working_directory == "/srv/a\nb 3");
    CHECK(sources[0].standard_library == "/opt/\uFFFD\uFFFD/lib/python2.7");
    CHECK(back.total_samples() == 7);
}

TEST_CASE("Austin's header: its python line is a source of every stack, the rest is skipped") {
    std::istringstream in(
        "# austin: 3.6.0\n# interval: 100\n# mode: wall\n# python: 3.11.7\n\n"
        "P4242;T7f1c;<module> (app.py:1);main (app.py:5) 300\n");
    Profile p;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, p, &sources));
    CHECK(sources == ProfileSources{{.pid = 0, .python_version = "3.11.7"}});
    CHECK(p.total_samples() == 300);
    CHECK(folded_metadata_source("# python:   ") == std::nullopt);
}

TEST_CASE("metadata anywhere is skipped; a source line that cannot be read is left out, the stacks are all read") {
    std::istringstream in(
        "# source: {not json\n"
        "a;b 2\n"
        "# source: [1,2]\n"
        "# source: {\"pid\":\"4242\"}\n"
        "# source: {\"pid\":-1}\n"
        "# source: {\"pid\":5,\"cwd\":7}\n"
        "# a comment; that ends in a count 3\n"
        "#\n"
        "# source: {\"pid\":9,\"cwd\":\"/x\"}\r\n"
        "a 1\n");
    Profile p;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, p, &sources));
    CHECK(p.total_samples() == 3);
    CHECK(folded(p) == "a 1\na;b 2\n");
    CHECK(sources == ProfileSources{{.pid = 9, .working_directory = "/x"}});
}

TEST_CASE("a root frame named with '#' is written so that it stays a stack") {
    Profile p;
    p.add_labels(std::vector<std::string>{"# source: {} (x.py:1)", "f (x.py:2)"}, 4);
    p.add_labels(std::vector<std::string>{"a", "#b"}, 1);  // '#' only matters at the line's start
    auto text = folded(p);
    CHECK(text == "\uFF03 source: {} (x.py:1);f (x.py:2) 4\na;#b 1\n");
    std::istringstream in(text);
    Profile back;
    ProfileSources sources;
    REQUIRE_FALSE(read_folded(in, back, &sources));
    CHECK(back.total_samples() == 5);
    CHECK(sources.empty());
    CHECK(folded(back) == text);  // and written again, the same
}
