#include <doctest/doctest.h>

#include <string>

#include "render/frame_identity.hpp"
#include "render/python2_modules.hpp"

using namespace pyprofd::render;

namespace {

std::string named(std::string_view file, const ProcessSources* sources = nullptr) {
    return normalized_source_file(file, sources).name;
}

}  // namespace

TEST_CASE("the standard library is <stdlib>/ whatever its prefix: pyenv, Debian, /usr/local, lib64, 2.7 and 3.x") {
    ProcessSources pyenv27{.python_version = "2.7.18", .standard_library = "/root/.pyenv/versions/2.7.18/lib/python2.7"};
    ProcessSources debian311{.python_version = "3.11.2", .standard_library = "/usr/lib/python3.11"};
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/threading.py", &pyenv27) == "<stdlib>/threading.py");
    CHECK(named("/usr/lib/python3.11/threading.py", &debian311) == "<stdlib>/threading.py");
    CHECK(named("/usr/lib/python3.11/wsgiref/simple_server.py", &debian311) == "<stdlib>/wsgiref/simple_server.py");
    // Without the process's own directory, the path's shape tells.
    CHECK(named("/usr/local/lib/python3.12/json/encoder.py") == "<stdlib>/json/encoder.py");
    CHECK(named("/usr/lib64/python3.9/threading.py") == "<stdlib>/threading.py");
    CHECK(named("/opt/py/lib/python3.13t/threading.py") == "<stdlib>/threading.py");
    CHECK(named("/root/.pyenv/versions/3.6.15/lib/python3.6/socketserver.py") == "<stdlib>/socketserver.py");
    // Not a version after lib/python: not the standard library.
    CHECK(named("/srv/lib/pythonic/app.py") == "/srv/lib/pythonic/app.py");
}

TEST_CASE("frozen modules (3.11+) are the standard library's files of that name") {
    CHECK(named("<frozen runpy>") == "<stdlib>/runpy.py");
    CHECK(named("<frozen importlib._bootstrap>") == "<stdlib>/importlib/_bootstrap.py");
    CHECK(named("<frozen importlib._bootstrap_external>") == "<stdlib>/importlib/_bootstrap_external.py");
    CHECK(named("<string>") == "<string>");
    CHECK(named("<stdin>") == "<stdin>");
}

TEST_CASE("Python 2's renamed modules take their Python 3 names; its lib-tk and plat- folders go") {
    ProcessSources pyenv27{.standard_library = "/root/.pyenv/versions/2.7.18/lib/python2.7"};
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/SocketServer.py", &pyenv27) == "<stdlib>/socketserver.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/BaseHTTPServer.py", &pyenv27) == "<stdlib>/http/server.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/SimpleHTTPServer.py", &pyenv27) == "<stdlib>/http/server.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/Queue.py", &pyenv27) == "<stdlib>/queue.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/httplib.py", &pyenv27) == "<stdlib>/http/client.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/ConfigParser.py", &pyenv27) == "<stdlib>/configparser.py");
    CHECK(named("/usr/lib/python2.7/lib-tk/Tkinter.py") == "<stdlib>/tkinter/__init__.py");
    CHECK(named("/usr/lib/python2.7/plat-x86_64-linux-gnu/DLFCN.py") == "<stdlib>/DLFCN.py");
    // A module Python 3 split keeps the other files as alternatives.
    auto urllib = normalized_source_file("/usr/lib/python2.7/urllib.py", nullptr);
    CHECK(urllib.name == "<stdlib>/urllib/parse.py");
    REQUIRE(urllib.alternatives.size() == 2);
    CHECK(urllib.alternatives[0] == "<stdlib>/urllib/request.py");
    CHECK(urllib.alternatives[1] == "<stdlib>/urllib/response.py");
    // Names that kept theirs, and lookups of names not in the table.
    CHECK(named("/usr/lib/python2.7/threading.py") == "<stdlib>/threading.py");
    CHECK(python3_files_of("socketserver.py").empty());
    CHECK(python3_files_of("").empty());
    CHECK(python3_files_of("zzz.py").empty());
    CHECK(python3_files_of("BaseHTTPServer.py").size() == 1);
    // Compiled files name their source.
    CHECK(named("/usr/lib/python2.7/SocketServer.pyc") == "<stdlib>/socketserver.py");
}

TEST_CASE("installed packages are <site>/, from site-packages or dist-packages, in a virtualenv or not") {
    ProcessSources debian311{.standard_library = "/usr/lib/python3.11"};
    CHECK(named("/usr/lib/python3/dist-packages/flask/app.py", &debian311) == "<site>/flask/app.py");
    CHECK(named("/usr/local/lib/python3.11/dist-packages/werkzeug/serving.py", &debian311) == "<site>/werkzeug/serving.py");
    CHECK(named("/srv/venv/lib/python3.11/site-packages/flask/app.py", &debian311) == "<site>/flask/app.py");
    CHECK(named("/root/.pyenv/versions/2.7.18/lib/python2.7/site-packages/six.py") == "<site>/six.py");
    ProcessSources pyenv311{.standard_library = "/root/.pyenv/versions/3.11.7/lib/python3.11"};
    CHECK(named("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/pip/__main__.py", &pyenv311) ==
          "<site>/pip/__main__.py");
}

TEST_CASE("the program's own files are relative to its working directory, so 2.7's relative and 3.x's absolute meet") {
    ProcessSources in_srv{.working_directory = "/srv/app"};
    CHECK(named("/srv/app/server.py", &in_srv) == "server.py");
    CHECK(named("/srv/app/handlers/report.py", &in_srv) == "handlers/report.py");
    CHECK(named("server.py", &in_srv) == "server.py");
    CHECK(named("./handlers/../server.py", &in_srv) == "server.py");
    CHECK(named("handlers/report.py", &in_srv) == "handlers/report.py");
    // Outside the working directory: as it was.
    CHECK(named("/opt/tools/run.py", &in_srv) == "/opt/tools/run.py");
    CHECK(named("/srv/application.py", &in_srv) == "/srv/application.py");  // a prefix, not a parent
    ProcessSources trailing{.working_directory = "/srv/app/"};
    CHECK(named("/srv/app/server.py", &trailing) == "server.py");
    ProcessSources at_root{.working_directory = "/"};
    CHECK(named("/app/server.py", &at_root) == "app/server.py");
    // Unknown working directory: absolute paths stay.
    CHECK(named("/srv/app/server.py") == "/srv/app/server.py");
    CHECK(named("./server.py") == "server.py");
}
