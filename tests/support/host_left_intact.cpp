// The last test of every run: the host's standard device nodes are still what they
// were. pyprofd once wrote `-o /dev/null` through a temporary file and a rename,
// the blocking tests did so, and `make test` left the machine with a regular file
// for /dev/null, on which apt's signature checks and container tools failed. This
// says so loudly, and how to repair it; it never repairs anything itself.
//
//     host_left_intact                      the standard nodes below
//     host_left_intact PATH MAJOR:MINOR...  these instead (how its own test shows it can fail)
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

// A character device with mode 666, or (no major) a symbolic link to `link`.
struct StandardNode {
    std::string path;
    unsigned major = 0, minor = 0;
    std::string link;
    bool required = false;  // /dev/null must be there; the others are checked where they exist
};

std::vector<StandardNode> standard_nodes() {
    return {
        {.path = "/dev/null", .major = 1, .minor = 3, .required = true},
        {.path = "/dev/zero", .major = 1, .minor = 5},
        {.path = "/dev/full", .major = 1, .minor = 7},
        {.path = "/dev/random", .major = 1, .minor = 8},
        {.path = "/dev/urandom", .major = 1, .minor = 9},
        {.path = "/dev/stdin", .link = "/proc/self/fd/0"},
        {.path = "/dev/stdout", .link = "/proc/self/fd/1"},
        {.path = "/dev/stderr", .link = "/proc/self/fd/2"},
    };
}

std::string expected_of(const StandardNode& node) {
    if (!node.link.empty()) return "the symbolic link to " + node.link;
    return "the character device " + std::to_string(node.major) + ":" + std::to_string(node.minor) + " with mode 666";
}

std::string restore_command(const StandardNode& node) {
    if (!node.link.empty()) return "rm " + node.path + " && ln -s " + node.link + " " + node.path;
    return "rm " + node.path + " && mknod -m 666 " + node.path + " c " + std::to_string(node.major) + " " +
           std::to_string(node.minor);
}

std::string describe(const std::string& path, const struct stat& st) {
    char what[256];
    auto mode = static_cast<unsigned>(st.st_mode & 0777);
    if (S_ISCHR(st.st_mode)) {
        std::snprintf(what, sizeof what, "a character device %u:%u with mode %03o", ::major(st.st_rdev),
                      ::minor(st.st_rdev), mode);
    } else if (S_ISREG(st.st_mode)) {
        std::snprintf(what, sizeof what, "a regular file of %lld bytes with mode %03o",
                      static_cast<long long>(st.st_size), mode);
    } else if (S_ISLNK(st.st_mode)) {
        char target[200] = {};
        auto n = ::readlink(path.c_str(), target, sizeof target - 1);
        std::snprintf(what, sizeof what, "a symbolic link to %s", n < 0 ? "?" : target);
    } else if (S_ISDIR(st.st_mode)) {
        std::snprintf(what, sizeof what, "a directory");
    } else if (S_ISFIFO(st.st_mode)) {
        std::snprintf(what, sizeof what, "a FIFO");
    } else if (S_ISBLK(st.st_mode)) {
        std::snprintf(what, sizeof what, "a block device %u:%u", ::major(st.st_rdev), ::minor(st.st_rdev));
    } else {
        std::snprintf(what, sizeof what, "something else (mode %o)", static_cast<unsigned>(st.st_mode));
    }
    return what;
}

bool intact(const StandardNode& node, const struct stat& st) {
    if (!node.link.empty()) {
        char target[200] = {};
        return S_ISLNK(st.st_mode) && ::readlink(node.path.c_str(), target, sizeof target - 1) >= 0 &&
               node.link == target;
    }
    return S_ISCHR(st.st_mode) && ::major(st.st_rdev) == node.major && ::minor(st.st_rdev) == node.minor &&
           (st.st_mode & 0777) == 0666;
}

}  // namespace

int main(int argc, char** argv) {
    auto nodes = standard_nodes();
    if (argc > 1) {
        nodes.clear();
        if (argc % 2 == 0) {
            std::fprintf(stderr, "usage: host_left_intact [PATH MAJOR:MINOR]...\n");
            return 2;
        }
        for (int i = 1; i + 1 < argc; i += 2) {
            StandardNode node{.path = argv[i], .required = true};
            if (std::sscanf(argv[i + 1], "%u:%u", &node.major, &node.minor) != 2) {
                std::fprintf(stderr, "host_left_intact: '%s' is not MAJOR:MINOR\n", argv[i + 1]);
                return 2;
            }
            nodes.push_back(node);
        }
    }
    int damaged = 0;
    for (const auto& node : nodes) {
        struct stat st {};
        std::string now;
        if (::lstat(node.path.c_str(), &st) != 0) {
            if (errno == ENOENT && !node.required) {
                std::printf("host_left_intact: %s is not on this machine (not checked)\n", node.path.c_str());
                continue;
            }
            now = std::string("gone or unreadable (") + std::strerror(errno) + ")";
        } else if (intact(node, st)) {
            std::printf("host_left_intact: %s is still %s\n", node.path.c_str(), expected_of(node).c_str());
            continue;
        } else {
            now = describe(node.path, st);
        }
        ++damaged;
        std::fprintf(stderr,
                     "\n"
                     "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                     "!!! THE TESTS DAMAGED THIS MACHINE: %s is no longer %s;\n"
                     "!!! it is now %s.\n"
                     "!!! Programs that use it (apt's signature checks, container tools, shells) fail\n"
                     "!!! until it is restored. As root:\n"
                     "!!!     %s\n"
                     "!!! Then find the test that wrote to it: no test may touch anything outside its\n"
                     "!!! own temporary directories.\n"
                     "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                     node.path.c_str(), expected_of(node).c_str(), now.c_str(), restore_command(node).c_str());
    }
    return damaged == 0 ? 0 : 1;
}
