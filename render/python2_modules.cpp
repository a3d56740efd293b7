#include "render/python2_modules.hpp"

#include <algorithm>
#include <array>

namespace pyprofd::render {
namespace {

struct Rename {
    std::string_view python2;                // relative to Python 2's standard library, subfolders (lib-tk/) taken off
    std::array<std::string_view, 3> python3;  // where its code went, most of it first; the rest empty
};

// Only modules with Python code: C modules (cPickle, cStringIO, thread, __builtin__)
// have no frames of their own to match. Sorted by the Python 2 name.
constexpr std::array renames{
    Rename{"BaseHTTPServer.py", {"http/server.py"}},
    Rename{"CGIHTTPServer.py", {"http/server.py"}},
    Rename{"ConfigParser.py", {"configparser.py"}},
    Rename{"Cookie.py", {"http/cookies.py"}},
    Rename{"Dialog.py", {"tkinter/dialog.py"}},
    Rename{"DocXMLRPCServer.py", {"xmlrpc/server.py"}},
    Rename{"FileDialog.py", {"tkinter/filedialog.py"}},
    Rename{"HTMLParser.py", {"html/parser.py"}},
    Rename{"Queue.py", {"queue.py"}},
    Rename{"ScrolledText.py", {"tkinter/scrolledtext.py"}},
    Rename{"SimpleDialog.py", {"tkinter/simpledialog.py"}},
    Rename{"SimpleHTTPServer.py", {"http/server.py"}},
    Rename{"SimpleXMLRPCServer.py", {"xmlrpc/server.py"}},
    Rename{"SocketServer.py", {"socketserver.py"}},
    Rename{"StringIO.py", {"_pyio.py", "io.py"}},
    Rename{"Tix.py", {"tkinter/tix.py"}},
    Rename{"Tkconstants.py", {"tkinter/constants.py"}},
    Rename{"Tkdnd.py", {"tkinter/dnd.py"}},
    Rename{"Tkinter.py", {"tkinter/__init__.py"}},
    Rename{"UserDict.py", {"collections/__init__.py"}},
    Rename{"UserList.py", {"collections/__init__.py"}},
    Rename{"UserString.py", {"collections/__init__.py"}},
    Rename{"anydbm.py", {"dbm/__init__.py"}},
    Rename{"commands.py", {"subprocess.py"}},
    Rename{"cookielib.py", {"http/cookiejar.py"}},
    Rename{"copy_reg.py", {"copyreg.py"}},
    Rename{"dumbdbm.py", {"dbm/dumb.py"}},
    Rename{"dummy_thread.py", {"_dummy_thread.py"}},
    Rename{"htmlentitydefs.py", {"html/entities.py"}},
    Rename{"httplib.py", {"http/client.py"}},
    Rename{"markupbase.py", {"_markupbase.py"}},
    Rename{"md5.py", {"hashlib.py"}},
    Rename{"new.py", {"types.py"}},
    Rename{"popen2.py", {"subprocess.py"}},
    Rename{"repr.py", {"reprlib.py"}},
    Rename{"robotparser.py", {"urllib/robotparser.py"}},
    Rename{"sha.py", {"hashlib.py"}},
    Rename{"tkColorChooser.py", {"tkinter/colorchooser.py"}},
    Rename{"tkCommonDialog.py", {"tkinter/commondialog.py"}},
    Rename{"tkFileDialog.py", {"tkinter/filedialog.py"}},
    Rename{"tkFont.py", {"tkinter/font.py"}},
    Rename{"tkMessageBox.py", {"tkinter/messagebox.py"}},
    Rename{"tkSimpleDialog.py", {"tkinter/simpledialog.py"}},
    Rename{"ttk.py", {"tkinter/ttk.py"}},
    Rename{"urllib.py", {"urllib/parse.py", "urllib/request.py", "urllib/response.py"}},
    Rename{"urllib2.py", {"urllib/request.py", "urllib/error.py", "urllib/response.py"}},
    Rename{"urlparse.py", {"urllib/parse.py"}},
    Rename{"whichdb.py", {"dbm/__init__.py"}},
    Rename{"xmlrpclib.py", {"xmlrpc/client.py"}},
};

constexpr bool sorted_by_python2_name() {
    for (std::size_t i = 1; i < renames.size(); ++i)
        if (!(renames[i - 1].python2 < renames[i].python2)) return false;
    return true;
}
static_assert(sorted_by_python2_name(), "renames must stay sorted, for the binary search");

}  // namespace

std::span<const std::string_view> python3_files_of(std::string_view python2_file) {
    auto it = std::lower_bound(renames.begin(), renames.end(), python2_file,
                               [](const Rename& r, std::string_view name) { return r.python2 < name; });
    if (it == renames.end() || it->python2 != python2_file) return {};
    auto used = static_cast<std::size_t>(std::count_if(it->python3.begin(), it->python3.end(),
                                                       [](std::string_view f) { return !f.empty(); }));
    return std::span<const std::string_view>(it->python3.data(), used);
}

}  // namespace pyprofd::render
