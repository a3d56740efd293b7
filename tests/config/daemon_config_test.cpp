#include <doctest/doctest.h>

#include "config/daemon_config.hpp"

using namespace pyprofd::config;

TEST_CASE("an empty file gives every default") {
    auto c = parse_config("", "empty.yaml");
    REQUIRE(c);
    REQUIRE(c->listen.size() == 1);
    CHECK(c->listen[0].to_string() == "127.0.0.1:8700");
    CHECK(c->state_dir == "/var/lib/pyprofd");
    CHECK(c->limits.max_running_sessions == 16);
    CHECK(c->access.tokens.empty());
    CHECK_FALSE(c->access.admin_group);
    CHECK_FALSE(c->targets.allow_commands);
    CHECK(c->targets.command_cgroups);
    CHECK(c->limits.max_command_env_vars == 64);
    CHECK(c->limits.max_command_env_bytes == 32768);
}

TEST_CASE("the documented example parses and holds the defaults it says") {
    auto c = load_config_file(PYPROFD_SOURCE_DIR "/systemd/pyprofd.yaml");
    REQUIRE_MESSAGE(c, c.error());
    DaemonConfig defaults;
    CHECK(c->listen[0].to_string() == defaults.listen[0].to_string());
    CHECK(c->state_dir == defaults.state_dir);
    CHECK(c->limits.max_rate_hz == defaults.limits.max_rate_hz);
    CHECK(c->limits.max_duration_s == defaults.limits.max_duration_s);
    CHECK(c->limits.max_request_body_bytes == defaults.limits.max_request_body_bytes);
    CHECK(c->limits.max_connections == defaults.limits.max_connections);
    CHECK(c->limits.max_profile_stacks == defaults.limits.max_profile_stacks);
    CHECK(c->limits.max_profile_frames == defaults.limits.max_profile_frames);
    CHECK(c->limits.max_profile_label_bytes == defaults.limits.max_profile_label_bytes);
    CHECK(c->retention.max_sessions == defaults.retention.max_sessions);
    CHECK(c->retention.max_disk_bytes == defaults.retention.max_disk_bytes);
    CHECK(c->checkpoint_interval_s == defaults.checkpoint_interval_s);
    CHECK(c->targets.allow_commands == defaults.targets.allow_commands);
    CHECK(c->access.tokens.empty());
    CHECK_FALSE(c->access.admin_group);
}

TEST_CASE("every key read") {
    auto c = parse_config(R"(
listen: [ "0.0.0.0:9000", "[::1]:9001", "unix:/run/pyprofd/api.sock" ]
state_dir: /srv/pyprofd
unix_socket_group: adm
access:
  admin_group: pyprofd
  server_names: [profiler.staging.example]
  tokens:
    - {name: ci, file: /etc/pyprofd/ci.token, role: admin}
    - {name: alice-laptop, file: /etc/pyprofd/alice.token, user: alice}
checkpoint_interval_s: 2
limits: {max_running_sessions: 4, max_rate_hz: 2000, max_duration_s: 60, allow_unlimited_duration: yes, max_request_body_bytes: 4096,
         max_connections: 64, max_command_env_vars: 3, max_command_env_bytes: 100, max_profile_stacks: 500, max_profile_frames: 20000,
         max_profile_label_mb: 2, max_session_processes: 8}
retention: {max_sessions: 10, max_age_days: 0.5, max_disk_mb: 100}
log: {level: debug, format: json}
targets: {allowed_uids: [1000, 0], allowed_executables: ["/usr/bin/python3*"], allow_commands: true, command_user: www-data, command_cgroups: no}
)", "c.yaml");
    REQUIRE_MESSAGE(c, c.error());
    REQUIRE(c->listen.size() == 3);
    CHECK(c->listen[0].host == "0.0.0.0");
    CHECK(c->listen[0].port == 9000);
    CHECK(c->listen[1].host == "::1");
    CHECK(c->listen[1].to_string() == "[::1]:9001");
    CHECK(c->listen[2].kind == ListenAddress::Kind::unix_socket);
    CHECK(c->listen[2].path == "/run/pyprofd/api.sock");
    CHECK(c->state_dir == "/srv/pyprofd");
    CHECK(*c->access.admin_group == "pyprofd");
    CHECK(c->access.server_names == std::vector<std::string>{"profiler.staging.example"});
    REQUIRE(c->access.tokens.size() == 2);
    CHECK(c->access.tokens[0].name == "ci");
    CHECK(c->access.tokens[0].file == "/etc/pyprofd/ci.token");
    CHECK(c->access.tokens[0].admin);
    CHECK_FALSE(c->access.tokens[0].user);
    CHECK(c->access.tokens[1].name == "alice-laptop");
    CHECK_FALSE(c->access.tokens[1].admin);
    CHECK(*c->access.tokens[1].user == "alice");
    CHECK(c->targets.allow_commands);
    CHECK(*c->unix_socket_group == "adm");
    CHECK(c->checkpoint_interval_s == 2);
    CHECK(c->limits.max_running_sessions == 4);
    CHECK(c->limits.max_rate_hz == 2000);
    CHECK(c->limits.max_session_processes == 8);
    CHECK(c->limits.max_duration_s == 60);
    CHECK(c->limits.allow_unlimited_duration);
    CHECK(c->limits.max_request_body_bytes == 4096);
    CHECK(c->limits.max_command_env_vars == 3);
    CHECK(c->limits.max_command_env_bytes == 100);
    CHECK(c->limits.max_connections == 64);
    CHECK(c->limits.max_profile_stacks == 500);
    CHECK(c->limits.max_profile_frames == 20000);
    CHECK(c->limits.max_profile_label_bytes == 2ULL << 20);
    CHECK(c->retention.max_sessions == 10);
    CHECK(c->retention.max_age_days == 0.5);
    CHECK(c->retention.max_disk_bytes == 100ULL << 20);
    CHECK(c->log.level == "debug");
    CHECK(c->log.format == "json");
    CHECK(c->targets.allowed_uids == std::vector<unsigned>{1000, 0});
    CHECK(c->targets.allowed_executables == std::vector<std::string>{"/usr/bin/python3*"});
    CHECK(c->targets.command_user == "www-data");
    CHECK_FALSE(c->targets.command_cgroups);
}

TEST_CASE("errors name the file, the line, the key and what is allowed") {
    auto error_of = [](const char* yaml) {
        auto c = parse_config(yaml, "p.yaml");
        REQUIRE_FALSE(c);
        return c.error();
    };
    CHECK(error_of("state_dir: /x\nlisten_on: 1.2.3.4:80\n") ==
          "p.yaml:2: listen_on: unknown key (known here: access, auth_token_file, checkpoint_interval_s, limits, listen, "
          "log, retention, state_dir, targets, unix_socket_group)");
    CHECK(error_of("auth_token_file: /etc/pyprofd/token\n") ==
          "p.yaml:1: auth_token_file: was replaced by access.tokens, which names each token and its role: "
          "access: {tokens: [{name: admin, file: /etc/pyprofd/token, role: admin}]}");
    CHECK(error_of("access:\n  tokens:\n    - {name: x, file: /t}\n") ==
          "p.yaml:3: access.tokens: token 'x' needs either role: admin or user: NAME (whom it acts as), not both or neither");
    CHECK(error_of("access:\n  tokens:\n    - {name: x, file: /t, role: root}\n") ==
          "p.yaml:3: access.tokens.role: must be one of admin, not 'root'");
    CHECK(error_of("access:\n  tokens:\n    - {name: x, file: t, role: admin}\n") ==
          "p.yaml:3: access.tokens.file: must be an absolute path, not 't'");
    CHECK(error_of("access:\n  tokens:\n    - {name: x, file: /t, role: admin}\n    - {name: x, file: /u, role: admin}\n") ==
          "p.yaml:4: access.tokens: two tokens are named 'x'");
    CHECK(error_of("access: {server_names: [\"http://x\"]}\n") ==
          "p.yaml:1: access.server_names: a host name without port or scheme, not 'http://x'");
    CHECK(error_of("targets: {allow_commands: sometimes}\n").find("targets.allow_commands: must be true or false") !=
          std::string::npos);
    CHECK(error_of("limits:\n  max_session_processes: 0\n") ==
          "p.yaml:2: limits.max_session_processes: must be between 1 and 4096, not 0");
    CHECK(error_of("limits:\n  max_rate_hz: 0\n") == "p.yaml:2: limits.max_rate_hz: must be between 1 and 100000, not 0");
    CHECK(error_of("limits:\n  max_rate_hz: fast\n") == "p.yaml:2: limits.max_rate_hz: must be a number, not 'fast'");
    CHECK(error_of("limits:\n  max_rate_hz: .nan\n").find("must be a number") != std::string::npos);
    CHECK(error_of("limits:\n  max_running_sessions: -1\n") ==
          "p.yaml:2: limits.max_running_sessions: must be a whole number, not '-1'");
    CHECK(error_of("limits:\n  max_profile_stacks: 0\n") ==
          "p.yaml:2: limits.max_profile_stacks: must be between 1 and 100000000, not 0");
    CHECK(error_of("limits:\n  max_profile_label_mb: 1.5\n") ==
          "p.yaml:2: limits.max_profile_label_mb: must be a whole number, not '1.5'");
    CHECK(error_of("limits:\n  maxrate: 5\n").starts_with("p.yaml:2: limits.maxrate: unknown key"));
    CHECK(error_of("log: {level: loud}\n") ==
          "p.yaml:1: log.level: must be one of trace, debug, info, warn, error, not 'loud'");
    CHECK(error_of("listen: [\"localhost\"]\n").starts_with("p.yaml:1: listen: a listen address is host:port"));
    CHECK(error_of("listen: [\"unix:relative.sock\"]\n").find("unix:/absolute/path") != std::string::npos);
    CHECK(error_of("state_dir: relative/dir\n") == "p.yaml:1: state_dir: must be an absolute path, not 'relative/dir'");
    CHECK(error_of("limits: [1, 2]\n") == "p.yaml:1: limits: must be a map of keys to values");
    CHECK(error_of("limits: {allow_unlimited_duration: maybe}\n").find("must be true or false") != std::string::npos);
    CHECK(error_of("limits: {max_rate_hz: [1]}\n").find("must be a single value") != std::string::npos);
    CHECK(error_of("state_dir: [unclosed\n").starts_with("p.yaml: not valid YAML"));
    CHECK(error_of("targets: {allowed_uids: 1000}\n").find("must be a list of user ids") != std::string::npos);
    CHECK(error_of("targets:\n  allowed_executables: [\"python*\"]\n") ==
          "p.yaml:2: targets.allowed_executables: a glob of an absolute path, not 'python*'");
    auto missing = load_config_file("/nonexistent/pyprofd.yaml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == "cannot read the configuration /nonexistent/pyprofd.yaml: No such file or directory");
}

TEST_CASE("listen addresses") {
    CHECK(parse_listen_address("localhost:0")->port == 0);
    CHECK(parse_listen_address("[fe80::1]:80")->host == "fe80::1");
    CHECK_FALSE(parse_listen_address("::1:80"));  // IPv6 needs brackets
    CHECK_FALSE(parse_listen_address("host:65536"));
    CHECK_FALSE(parse_listen_address(":80"));
    CHECK_FALSE(parse_listen_address("host:"));
    CHECK_FALSE(parse_listen_address("unix:"));
}
