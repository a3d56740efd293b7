#pragma once
// The daemon's settings: where it listens, where it keeps results, and the limits
// that keep one client from taking the host. Every value has a built-in default;
// a YAML file (systemd/pyprofd.yaml is the documented example) and then the
// command line override them.
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyprofd::config {

// "127.0.0.1:8700", "[::1]:8700", "localhost:8700" or "unix:/run/pyprofd/pyprofd.sock".
struct ListenAddress {
    enum class Kind { tcp, unix_socket } kind = Kind::tcp;
    std::string host;  // tcp: a name or address
    std::uint16_t port = 0;
    std::string path;  // unix socket
    std::string to_string() const;
};

std::expected<ListenAddress, std::string> parse_listen_address(std::string_view text);

struct Limits {
    std::size_t max_running_sessions = 16;
    double max_rate_hz = 10'000;
    double max_duration_s = 3'600;
    bool allow_unlimited_duration = false;  // sessions that run until stopped
    std::size_t max_request_body_bytes = 64 * 1024;
    // What a session's request may add to a launched program's environment.
    std::size_t max_command_env_vars = 64;
    std::size_t max_command_env_bytes = 32 * 1024;  // NAME=value, all of them
    // HTTP connections open at once; more wait in the kernel's backlog. Lowered at
    // start to what the descriptor limit leaves room for.
    std::size_t max_connections = 512;
    // What one session's profile may hold (its memory, its saved file and its graphs
    // grow with these); past any, new stacks count under one [truncated] frame.
    std::size_t max_profile_stacks = 100'000;        // distinct stacks
    std::size_t max_profile_frames = 1'000'000;      // frames of those stacks, a shared prefix once
    std::uint64_t max_profile_label_bytes = 64ULL << 20;  // their text, as folded stacks
    // Processes one session with subprocesses follows at once, its target included;
    // more descendants are counted and left alone (a fork bomb costs no more).
    std::size_t max_session_processes = 64;
};

// What is kept of finished sessions; the oldest go first.
struct Retention {
    std::size_t max_sessions = 500;
    double max_age_days = 30;
    std::uint64_t max_disk_bytes = 2ULL << 30;
};

// Which processes may be profiled, and whether and as whom programs are launched.
// These narrow what the caller's own rights (Access) allow; they never widen them.
struct TargetPolicy {
    std::vector<unsigned> allowed_uids;           // empty: any user's processes
    std::vector<std::string> allowed_executables; // globs on the target's executable; empty: any
    // Sessions that launch a program ({"command": [...]}): off unless turned on. A
    // local caller's program runs as that caller; an admin token's as command_user.
    bool allow_commands = false;
    std::string command_user = "nobody";
    // A cgroup v2 for each launched program, where the host delegates one to pyprofd
    // (else, or when off, each program's keeper tracks what it starts as their subreaper).
    bool command_cgroups = true;
};

// A bearer token: who presents it is `name`, with the rights of an admin or of `user`.
struct AccessToken {
    std::string name;
    std::string file;                 // holds the token; readable by its owner only
    bool admin = false;               // role: admin
    std::optional<std::string> user;  // or: acts as this user (a name or a uid)
};

// Who may do what (see the README's "Trust model"): root and members of
// admin_group may profile any process; anyone else only its own. Callers are
// identified by the kernel on unix sockets and loopback TCP, or by a token.
struct Access {
    std::optional<std::string> admin_group;
    std::vector<AccessToken> tokens;
    // Host names (beyond loopback names and addresses) a browser may call the daemon by.
    std::vector<std::string> server_names;
};

struct Logging {
    std::string level = "info";  // trace, debug, info, warn, error
    std::string format = "text"; // text or json
};

struct DaemonConfig {
    std::vector<ListenAddress> listen = {ListenAddress{ListenAddress::Kind::tcp, "127.0.0.1", 8700, {}}};
    std::string state_dir = "/var/lib/pyprofd";
    // Unix sockets are mode 0666 (every caller is identified and authorized), or 0660
    // for this group only.
    std::optional<std::string> unix_socket_group;
    Access access;
    Limits limits;
    Retention retention;
    TargetPolicy targets;
    Logging log;
    double checkpoint_interval_s = 5;  // how often a running session's results are saved
};

// The settings a YAML document gives, over the defaults. An unknown key, a value of
// the wrong type or out of range is an error that names the key and its line:
// "pyprofd.yaml:7: limits.max_rate_hz: must be between 1 and 100000, not 0".
std::expected<DaemonConfig, std::string> parse_config(std::string_view yaml, std::string_view source_name);
std::expected<DaemonConfig, std::string> load_config_file(const std::string& path);

}  // namespace pyprofd::config
