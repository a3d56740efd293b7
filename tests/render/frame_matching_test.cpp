#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "render/frame_matching.hpp"

using namespace pyprofd::render;

namespace {

using Stack = std::vector<std::string>;

std::set<std::string> labels_of(const Profile& p) {
    std::set<std::string> labels;
    for (FrameId f = 0; f < p.frame_count(); ++f) labels.insert(p.label(f));
    return labels;
}

bool has(const Profile& p, const std::string& label) { return labels_of(p).contains(label); }

// The stacks of a profile as labels, root first, with their samples.
std::vector<std::pair<Stack, std::uint64_t>> stacks_of(const Profile& p) {
    std::vector<std::pair<Stack, std::uint64_t>> stacks;
    p.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        Stack s;
        for (auto n : path) s.push_back(p.label(p.node(n).frame));
        stacks.emplace_back(s, self);
    });
    return stacks;
}

const ProfileSources python27{{.pid = 0,
                                .python_version = "2.7.18",
                                .working_directory = "/srv/app",
                                .standard_library = "/root/.pyenv/versions/2.7.18/lib/python2.7"}};
const ProfileSources python311{{.pid = 0,
                                 .python_version = "3.11.7",
                                 .working_directory = "/srv/app",
                                 .standard_library = "/root/.pyenv/versions/3.11.7/lib/python3.11"}};

}  // namespace

TEST_CASE("a thread's stack under 2.7 and under 3.11 is one stack: bare and private names meet qualified ones") {
    Profile before, after;
    before.add_labels(Stack{"thread \"w\" (101)",
                            "__bootstrap (/root/.pyenv/versions/2.7.18/lib/python2.7/threading.py:774)",
                            "__bootstrap_inner (/root/.pyenv/versions/2.7.18/lib/python2.7/threading.py:801)",
                            "run (/root/.pyenv/versions/2.7.18/lib/python2.7/threading.py:754)",
                            "work (threads.py:11)", "burn (threads.py:5)"},
                      10);
    after.add_labels(Stack{"thread \"w\" (202)",
                           "Thread._bootstrap (/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py:1002)",
                           "Thread._bootstrap_inner (/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py:1045)",
                           "Thread.run (/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py:982)",
                           "work (/srv/app/threads.py:11)", "burn (/srv/app/threads.py:4)"},
                     7);
    auto m = match_profiles(before, python27, after, python311);
    Stack expected{"Thread._bootstrap (<stdlib>/threading.py)", "Thread._bootstrap_inner (<stdlib>/threading.py)",
                   "Thread.run (<stdlib>/threading.py)", "work (threads.py)", "burn (threads.py)"};
    auto b = stacks_of(m.before), a = stacks_of(m.after);
    REQUIRE(b.size() == 1);
    REQUIRE(a.size() == 1);
    CHECK(b[0].first == expected);  // thread roots left out, names and files the same
    CHECK(a[0].first == expected);
    CHECK(b[0].second == 10);
    CHECK(a[0].second == 7);
    // The tooltip's origin: the input's own path and line.
    FrameId burn = 0;
    for (FrameId f = 0; f < m.after.frame_count(); ++f)
        if (m.after.label(f) == "burn (threads.py)") burn = f;
    CHECK(m.after_origin[burn] == "/srv/app/threads.py:4");
    CHECK(m.before_origin.size() == m.before.frame_count());
}

TEST_CASE("a bare name with two qualified candidates in its file stays unmatched, rather than matched wrongly") {
    Profile before, after;
    before.add_labels(Stack{"__init__ (/srv/app/models.py:3)"}, 1);
    after.add_labels(Stack{"Report.__init__ (/srv/app/models.py:3)"}, 1);
    after.add_labels(Stack{"Summary.__init__ (/srv/app/models.py:9)"}, 1);
    auto m = match_profiles(before, python27, after, python311);
    CHECK(has(m.before, "__init__ (models.py)"));
    CHECK(has(m.after, "Report.__init__ (models.py)"));
    CHECK(has(m.after, "Summary.__init__ (models.py)"));

    // One candidate: matched. Dunder names are not private renames.
    Profile before2, after2;
    before2.add_labels(Stack{"__init__ (/srv/app/models.py:3)", "__len__ (/srv/app/models.py:5)"}, 1);
    after2.add_labels(Stack{"Report.__init__ (/srv/app/models.py:3)", "Report._len__ (/srv/app/models.py:5)"}, 1);
    auto m2 = match_profiles(before2, python27, after2, python311);
    CHECK(has(m2.before, "Report.__init__ (models.py)"));
    CHECK(has(m2.before, "__len__ (models.py)"));

    // A class-private name kept in 3.x is matched as it is, before any renamed one.
    Profile before3, after3;
    before3.add_labels(Stack{"__walk (/srv/app/tree.py:3)"}, 1);
    after3.add_labels(Stack{"Tree.__walk (/srv/app/tree.py:3)", "Tree._walk (/srv/app/tree.py:9)"}, 1);
    auto m3 = match_profiles(before3, python27, after3, python311);
    CHECK(has(m3.before, "Tree.__walk (tree.py)"));
}

TEST_CASE("of several qualified candidates, the one called from where the bare name was called is its match") {
    // 2.7's socketserver has one __init__ on these stacks; 3.11's has two, called
    // from different places: BaseRequestHandler.__init__ from finish_request, and
    // _SocketWriter.__init__ from StreamRequestHandler.setup.
    Profile before, after;
    before.add_labels(Stack{"finish_request (/usr/lib/python2.7/SocketServer.py:1)",
                            "__init__ (/usr/lib/python2.7/SocketServer.py:2)", "handle (/srv/app/h.py:1)"},
                      9);
    after.add_labels(Stack{"BaseServer.finish_request (/usr/lib/python3.11/socketserver.py:1)",
                           "BaseRequestHandler.__init__ (/usr/lib/python3.11/socketserver.py:2)",
                           "handle (/srv/app/h.py:1)"},
                     9);
    after.add_labels(Stack{"BaseServer.finish_request (/usr/lib/python3.11/socketserver.py:1)",
                           "BaseRequestHandler.__init__ (/usr/lib/python3.11/socketserver.py:2)",
                           "StreamRequestHandler.setup (/usr/lib/python3.11/socketserver.py:3)",
                           "_SocketWriter.__init__ (/usr/lib/python3.11/socketserver.py:4)"},
                     1);
    auto m = match_profiles(before, python27, after, python311);
    CHECK(has(m.before, "BaseRequestHandler.__init__ (<stdlib>/socketserver.py)"));
    CHECK(stacks_of(m.before)[0] == stacks_of(m.after)[0]);
}

TEST_CASE("a function of another file, or of another name, is not matched by name alone") {
    Profile before, after;
    before.add_labels(Stack{"handle (/srv/app/a.py:1)"}, 1);
    after.add_labels(Stack{"Handler.handle (/srv/app/b.py:1)"}, 1);
    auto m = match_profiles(before, python27, after, python311);
    CHECK(has(m.before, "handle (a.py)"));
    CHECK(has(m.after, "Handler.handle (b.py)"));
}

TEST_CASE("renamed modules meet: 2.7's SocketServer and BaseHTTPServer frames and 3.x's socketserver and http.server") {
    Profile before, after;
    before.add_labels(
        Stack{"serve_forever (/root/.pyenv/versions/2.7.18/lib/python2.7/SocketServer.py:236)",
              "_handle_request_noblock (/root/.pyenv/versions/2.7.18/lib/python2.7/SocketServer.py:292)",
              "handle (/root/.pyenv/versions/2.7.18/lib/python2.7/BaseHTTPServer.py:340)"},
        4);
    after.add_labels(Stack{"BaseServer.serve_forever (/root/.pyenv/versions/3.11.7/lib/python3.11/socketserver.py:233)",
                           "BaseServer._handle_request_noblock (/root/.pyenv/versions/3.11.7/lib/python3.11/socketserver.py:307)",
                           "BaseHTTPRequestHandler.handle (/root/.pyenv/versions/3.11.7/lib/python3.11/http/server.py:432)"},
                     4);
    auto m = match_profiles(before, python27, after, python311);
    CHECK(stacks_of(m.before) == stacks_of(m.after));
    CHECK(has(m.before, "BaseServer._handle_request_noblock (<stdlib>/socketserver.py)"));
}

TEST_CASE("a module Python 3 split: a function matches in the file the other run has it in") {
    Profile before, after;
    before.add_labels(Stack{"quote (/usr/lib/python2.7/urllib.py:1270)"}, 1);
    before.add_labels(Stack{"urlopen (/usr/lib/python2.7/urllib.py:70)"}, 1);
    after.add_labels(Stack{"quote (/usr/lib/python3.11/urllib/parse.py:850)"}, 1);
    after.add_labels(Stack{"urlopen (/usr/lib/python3.11/urllib/request.py:200)"}, 1);
    auto m = match_profiles(before, {}, after, {});
    CHECK(labels_of(m.before) == labels_of(m.after));
    CHECK(has(m.before, "urlopen (<stdlib>/urllib/request.py)"));
}

TEST_CASE("another tool's 2.7 profile, relative paths and no header, meets a 3.x profile's absolute paths") {
    Profile before, after;  // py-spy's folded stacks: no sources, relative paths as 2.7 started
    before.add_labels(Stack{"<module> (app/server.py:40)", "handle_report (app/views.py:12)"}, 3);
    after.add_labels(Stack{"<module> (/srv/app/server.py:40)", "handle_report (/srv/app/views.py:12)"}, 3);
    auto m = match_profiles(before, {}, after, {});
    CHECK(stacks_of(m.before) == stacks_of(m.after));
    // Two absolute candidates that end the same way: left as they are.
    Profile after2;
    after2.add_labels(Stack{"f (/a/app/x.py:1)"}, 1);
    after2.add_labels(Stack{"f (/b/app/x.py:1)"}, 1);
    Profile before2;
    before2.add_labels(Stack{"f (app/x.py:1)"}, 1);
    auto m2 = match_profiles(before2, {}, after2, {});
    CHECK(has(m2.before, "f (app/x.py)"));
}

TEST_CASE("each process of a worker tree is read with its own sources; process roots are left out") {
    Profile after;
    after.add_labels(Stack{"process 10 (python3 app.py)", "thread \"MainThread\" (10)", "main (/srv/a/app.py:1)"}, 2);
    after.add_labels(Stack{"process 11 (python3 app.py)", "thread \"MainThread\" (11)", "main (/srv/b/app.py:1)"}, 3);
    ProfileSources sources{{.pid = 10, .working_directory = "/srv/a"}, {.pid = 11, .working_directory = "/srv/b"}};
    Profile before;
    before.add_labels(Stack{"main (app.py:1)"}, 5);
    auto m = match_profiles(before, {}, after, sources);
    auto a = stacks_of(m.after);
    REQUIRE(a.size() == 1);
    CHECK(a[0].first == Stack{"main (app.py)"});
    CHECK(a[0].second == 5);
}

TEST_CASE("the interpreter's own shim frames, which only some versions have, are left out so stacks line up") {
    Profile before, after;
    before.add_labels(Stack{"finish_request (/usr/lib/python3.11/socketserver.py:1)",
                            "BaseRequestHandler.__init__ (/usr/lib/python3.11/socketserver.py:2)"},
                      2);
    after.add_labels(Stack{"BaseServer.finish_request (/usr/lib/python3.14/socketserver.py:1)", "__init__ (__init__)",
                           "BaseRequestHandler.__init__ (/usr/lib/python3.14/socketserver.py:2)"},
                     2);
    after.add_labels(Stack{"dumps (/usr/lib/python3.14/json/__init__.py:3)", "<interpreter trampoline> (<shim>)",
                           "x (/srv/x.py:1)"},
                     1);
    auto m = match_profiles(before, {}, after, {});
    CHECK(stacks_of(m.before)[0] == stacks_of(m.after)[0]);
    CHECK_FALSE(has(m.after, "__init__ (__init__)"));
    CHECK_FALSE(has(m.after, "<interpreter trampoline> (<shim>)"));
    // A shim that is the stack's last frame stays: its samples have nothing else.
    Profile leaf;
    leaf.add_labels(Stack{"<interpreter trampoline> (<shim>)"}, 1);
    CHECK(match_profiles(leaf, {}, leaf, {}).after.total_samples() == 1);
}

TEST_CASE("a stack of a thread root alone keeps it: no sample is lost") {
    Profile before;
    before.add_labels(Stack{"thread \"w\" (5)"}, 3);
    before.add_labels(Stack{"thread \"w\" (5)", "main (x.py:1)"}, 2);
    auto m = match_profiles(before, {}, before, {});
    CHECK(m.before.total_samples() == 5);
    CHECK(has(m.before, "thread \"w\" (5)"));
}

TEST_CASE("frames that are not Python keep their labels; <idle> and native frames match themselves") {
    Profile before, after;
    before.add_labels(Stack{"main (/srv/app/x.py:1)", "<idle>"}, 2);
    after.add_labels(Stack{"main (/srv/app/x.py:2)", "<idle>"}, 2);
    after.add_labels(Stack{"malloc"}, 1);
    auto m = match_profiles(before, python27, after, python311);
    CHECK(has(m.after, "<idle>"));
    CHECK(has(m.after, "malloc"));
    CHECK(stacks_of(m.before)[0] == stacks_of(m.after)[0]);
}
