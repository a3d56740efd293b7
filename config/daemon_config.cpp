#include "config/daemon_config.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace pyprofd::config {
namespace {

// An error about one key, located in the file.
struct KeyError {
    std::string message;
};

std::string where(std::string_view source, const YAML::Node& node) {
    auto mark = node.Mark();
    if (mark.line < 0) return std::string(source);
    return std::string(source) + ":" + std::to_string(mark.line + 1);
}

class Reader {
public:
    explicit Reader(std::string_view source) : source_(source) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& message) const {
        throw KeyError{where(source_, node) + ": " + key + ": " + message};
    }

    std::string scalar(const YAML::Node& node, const std::string& key) const {
        if (!node.IsScalar()) fail(node, key, "must be a single value, not a list or a map");
        return node.Scalar();
    }

    double number(const YAML::Node& node, const std::string& key, double low, double high) const {
        auto text = scalar(node, key);
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
            fail(node, key, "must be a number, not '" + text + "'");
        if (value < low || value > high) {
            std::ostringstream m;
            m << "must be between " << low << " and " << high << ", not " << text;
            fail(node, key, m.str());
        }
        return value;
    }

    std::uint64_t whole(const YAML::Node& node, const std::string& key, std::uint64_t low, std::uint64_t high) const {
        auto text = scalar(node, key);
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size())
            fail(node, key, "must be a whole number, not '" + text + "'");
        if (value < low || value > high)
            fail(node, key, "must be between " + std::to_string(low) + " and " + std::to_string(high) + ", not " + text);
        return value;
    }

    bool boolean(const YAML::Node& node, const std::string& key) const {
        auto text = scalar(node, key);
        if (text == "true" || text == "yes" || text == "on") return true;
        if (text == "false" || text == "no" || text == "off") return false;
        fail(node, key, "must be true or false, not '" + text + "'");
    }

    std::string one_of(const YAML::Node& node, const std::string& key, std::initializer_list<std::string_view> allowed) const {
        auto text = scalar(node, key);
        std::string list;
        for (auto a : allowed) {
            if (text == a) return text;
            list += (list.empty() ? "" : ", ") + std::string(a);
        }
        fail(node, key, "must be one of " + list + ", not '" + text + "'");
    }

    // Calls the handler of each key of a map; a key without one is an error.
    void map(const YAML::Node& node, const std::string& prefix,
             const std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>>& handlers) const {
        if (!node.IsMap()) fail(node, prefix.empty() ? "the file" : prefix, "must be a map of keys to values");
        for (const auto& entry : node) {
            auto name = entry.first.as<std::string>();
            auto key = prefix.empty() ? name : prefix + "." + name;
            auto handler = handlers.find(name);
            if (handler == handlers.end()) {
                std::string known;
                for (const auto& [k, _] : handlers) known += (known.empty() ? "" : ", ") + k;
                fail(entry.first, key, "unknown key (known here: " + known + ")");
            }
            handler->second(entry.second, key);
        }
    }

private:
    std::string source_;
};

}  // namespace

std::string ListenAddress::to_string() const {
    if (kind == Kind::unix_socket) return "unix:" + path;
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

std::expected<ListenAddress, std::string> parse_listen_address(std::string_view text) {
    if (text.starts_with("unix:")) {
        auto path = text.substr(5);
        if (path.empty() || path.front() != '/')
            return std::unexpected("a unix socket address is unix:/absolute/path, not '" + std::string(text) + "'");
        if (path.size() > 107) return std::unexpected("the unix socket path is longer than 107 bytes: " + std::string(path));
        return ListenAddress{ListenAddress::Kind::unix_socket, {}, 0, std::string(path)};
    }
    std::string_view host, port;
    if (text.starts_with("[")) {
        auto close = text.find("]:");
        if (close == std::string_view::npos)
            return std::unexpected("an IPv6 address is [address]:port, not '" + std::string(text) + "'");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon)
            return std::unexpected("a listen address is host:port, [ipv6]:port or unix:/path, not '" + std::string(text) + "'");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535 || port.empty())
        return std::unexpected("a listen address is host:port with a port from 0 to 65535, not '" + std::string(text) + "'");
    return ListenAddress{ListenAddress::Kind::tcp, std::string(host), static_cast<std::uint16_t>(value), {}};
}

std::expected<DaemonConfig, std::string> parse_config(std::string_view yaml, std::string_view source_name) {
    DaemonConfig config;
    Reader r(source_name);
    try {
        YAML::Node root = YAML::Load(std::string(yaml));
        if (root.IsNull()) return config;  // an empty file: every default
        r.map(root, "", {
            {"listen", [&](const YAML::Node& n, const std::string& key) {
                 config.listen.clear();
                 auto add = [&](const YAML::Node& item) {
                     auto address = parse_listen_address(r.scalar(item, key));
                     if (!address) r.fail(item, key, address.error());
                     config.listen.push_back(*address);
                 };
                 if (n.IsSequence()) {
                     for (const auto& item : n) add(item);
                 } else {
                     add(n);
                 }
                 if (config.listen.empty()) r.fail(n, key, "needs at least one address");
             }},
            {"state_dir", [&](const YAML::Node& n, const std::string& key) {
                 config.state_dir = r.scalar(n, key);
                 if (config.state_dir.empty() || config.state_dir.front() != '/')
                     r.fail(n, key, "must be an absolute path, not '" + config.state_dir + "'");
             }},
            {"auth_token_file", [&](const YAML::Node& n, const std::string& key) {
                 r.fail(n, key, "was replaced by access.tokens, which names each token and its role: "
                                "access: {tokens: [{name: admin, file: " + r.scalar(n, key) + ", role: admin}]}");
             }},
            {"access", [&](const YAML::Node& n, const std::string& prefix) {
                 auto& a = config.access;
                 r.map(n, prefix, {
                     {"admin_group", [&](const YAML::Node& v, const std::string& key) {
                          a.admin_group = r.scalar(v, key);
                          if (a.admin_group->empty()) r.fail(v, key, "must name a group");
                      }},
                     {"server_names", [&](const YAML::Node& v, const std::string& key) {
                          if (!v.IsSequence()) r.fail(v, key, "must be a list of host names, such as [profiler.example.com]");
                          for (const auto& item : v) {
                              auto name = r.scalar(item, key);
                              if (name.empty() || name.find_first_of(":/ ") != std::string::npos)
                                  r.fail(item, key, "a host name without port or scheme, not '" + name + "'");
                              a.server_names.push_back(name);
                          }
                      }},
                     {"tokens", [&](const YAML::Node& v, const std::string& key) {
                          if (!v.IsSequence())
                              r.fail(v, key, "must be a list of tokens, such as [{name: ci, file: /etc/pyprofd/ci.token, role: admin}]");
                          for (const auto& item : v) {
                              AccessToken token;
                              bool role_given = false;
                              r.map(item, key, {
                                  {"name", [&](const YAML::Node& x, const std::string& k) { token.name = r.scalar(x, k); }},
                                  {"file", [&](const YAML::Node& x, const std::string& k) {
                                       token.file = r.scalar(x, k);
                                       if (token.file.empty() || token.file.front() != '/')
                                           r.fail(x, k, "must be an absolute path, not '" + token.file + "'");
                                   }},
                                  {"role", [&](const YAML::Node& x, const std::string& k) {
                                       token.admin = r.one_of(x, k, {"admin"}) == "admin";
                                       role_given = true;
                                   }},
                                  {"user", [&](const YAML::Node& x, const std::string& k) {
                                       token.user = r.scalar(x, k);
                                       if (token.user->empty()) r.fail(x, k, "must name a user");
                                   }},
                              });
                              if (token.name.empty() || token.file.empty())
                                  r.fail(item, key, "each token needs a name and a file");
                              if (role_given == token.user.has_value())
                                  r.fail(item, key, "token '" + token.name + "' needs either role: admin or user: NAME (whom it acts as), not both or neither");
                              for (const auto& other : a.tokens)
                                  if (other.name == token.name) r.fail(item, key, "two tokens are named '" + token.name + "'");
                              a.tokens.push_back(std::move(token));
                          }
                      }},
                 });
             }},
            {"unix_socket_group", [&](const YAML::Node& n, const std::string& key) {
                 config.unix_socket_group = r.scalar(n, key);
                 if (config.unix_socket_group->empty()) r.fail(n, key, "must name a group");
             }},
            {"checkpoint_interval_s", [&](const YAML::Node& n, const std::string& key) {
                 config.checkpoint_interval_s = r.number(n, key, 0.5, 3600);
             }},
            {"limits", [&](const YAML::Node& n, const std::string& prefix) {
                 auto& l = config.limits;
                 r.map(n, prefix, {
                     {"max_running_sessions", [&](const YAML::Node& v, const std::string& key) {
                          l.max_running_sessions = r.whole(v, key, 1, 1024);
                      }},
                     {"max_session_processes", [&](const YAML::Node& v, const std::string& key) {
                          l.max_session_processes = r.whole(v, key, 1, 4096);
                      }},
                     {"max_rate_hz", [&](const YAML::Node& v, const std::string& key) {
                          l.max_rate_hz = r.number(v, key, 1, 100'000);
                      }},
                     {"max_duration_s", [&](const YAML::Node& v, const std::string& key) {
                          l.max_duration_s = r.number(v, key, 1, 30 * 86400);
                      }},
                     {"allow_unlimited_duration", [&](const YAML::Node& v, const std::string& key) {
                          l.allow_unlimited_duration = r.boolean(v, key);
                      }},
                     {"max_connections", [&](const YAML::Node& v, const std::string& key) {
                          l.max_connections = r.whole(v, key, 4, 1'000'000);
                      }},
                     {"max_request_body_bytes", [&](const YAML::Node& v, const std::string& key) {
                          l.max_request_body_bytes = r.whole(v, key, 1024, 64 << 20);
                      }},
                     {"max_profile_stacks", [&](const YAML::Node& v, const std::string& key) {
                          l.max_profile_stacks = r.whole(v, key, 1, 100'000'000);
                      }},
                     {"max_profile_frames", [&](const YAML::Node& v, const std::string& key) {
                          l.max_profile_frames = r.whole(v, key, 1, 1'000'000'000);
                      }},
                     {"max_profile_label_mb", [&](const YAML::Node& v, const std::string& key) {
                          l.max_profile_label_bytes = r.whole(v, key, 1, 1ULL << 20) << 20;
                      }},
                     {"max_command_env_vars", [&](const YAML::Node& v, const std::string& key) {
                          l.max_command_env_vars = r.whole(v, key, 0, 4096);
                      }},
                     {"max_command_env_bytes", [&](const YAML::Node& v, const std::string& key) {
                          l.max_command_env_bytes = r.whole(v, key, 0, 1 << 20);
                      }},
                 });
             }},
            {"retention", [&](const YAML::Node& n, const std::string& prefix) {
                 auto& k = config.retention;
                 r.map(n, prefix, {
                     {"max_sessions", [&](const YAML::Node& v, const std::string& key) {
                          k.max_sessions = r.whole(v, key, 1, 1'000'000);
                      }},
                     {"max_age_days", [&](const YAML::Node& v, const std::string& key) {
                          k.max_age_days = r.number(v, key, 0.00001, 36500);
                      }},
                     {"max_disk_mb", [&](const YAML::Node& v, const std::string& key) {
                          k.max_disk_bytes = r.whole(v, key, 1, 1ULL << 30) << 20;
                      }},
                 });
             }},
            {"targets", [&](const YAML::Node& n, const std::string& prefix) {
                 auto& t = config.targets;
                 r.map(n, prefix, {
                     {"allowed_uids", [&](const YAML::Node& v, const std::string& key) {
                          if (!v.IsSequence()) r.fail(v, key, "must be a list of user ids, such as [1000, 1001]");
                          for (const auto& item : v) t.allowed_uids.push_back(static_cast<unsigned>(r.whole(item, key, 0, 4294967294U)));
                      }},
                     {"allowed_executables", [&](const YAML::Node& v, const std::string& key) {
                          if (!v.IsSequence()) r.fail(v, key, "must be a list of path globs, such as [\"/usr/bin/python3*\"]");
                          for (const auto& item : v) {
                              auto glob = r.scalar(item, key);
                              if (glob.empty() || glob.front() != '/') r.fail(item, key, "a glob of an absolute path, not '" + glob + "'");
                              t.allowed_executables.push_back(glob);
                          }
                      }},
                     {"allow_commands", [&](const YAML::Node& v, const std::string& key) {
                          t.allow_commands = r.boolean(v, key);
                      }},
                     {"command_user", [&](const YAML::Node& v, const std::string& key) {
                          t.command_user = r.scalar(v, key);
                          if (t.command_user.empty()) r.fail(v, key, "must name a user");
                      }},
                     {"command_cgroups", [&](const YAML::Node& v, const std::string& key) {
                          t.command_cgroups = r.boolean(v, key);
                      }},
                 });
             }},
            {"log", [&](const YAML::Node& n, const std::string& prefix) {
                 r.map(n, prefix, {
                     {"level", [&](const YAML::Node& v, const std::string& key) {
                          config.log.level = r.one_of(v, key, {"trace", "debug", "info", "warn", "error"});
                      }},
                     {"format", [&](const YAML::Node& v, const std::string& key) {
                          config.log.format = r.one_of(v, key, {"text", "json"});
                      }},
                 });
             }},
        });
    } catch (const KeyError& e) {
        return std::unexpected(e.message);
    } catch (const YAML::Exception& e) {
        // yaml-cpp's own message holds the line and column.
        return std::unexpected(std::string(source_name) + ": not valid YAML: " + e.what());
    }
    return config;
}

std::expected<DaemonConfig, std::string> load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected("cannot read the configuration " + path + ": " + std::strerror(errno));
    std::string text;
    std::getline(in, text, '\0');
    return parse_config(text, path);
}

}  // namespace pyprofd::config
