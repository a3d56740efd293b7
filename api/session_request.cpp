#include "api/session_request.hpp"

#include <climits>
#include <optional>
#include <nlohmann/json.hpp>

namespace pyprofd::api {
namespace {

using nlohmann::json;

// Each reader sets its field of the spec from the value, or says what is wrong with it.
using Problem = std::optional<std::string>;

Problem read_command(const json& value, daemon::SessionSpec& spec) {
    if (!value.is_array() || value.empty())
        return "command must be a non-empty array of strings: the program and its arguments";
    for (const auto& word : value) {
        if (!word.is_string()) return "command must be an array of strings";
        spec.command.push_back(word.get<std::string>());
    }
    if (spec.command.front().empty()) return "command's program name is empty";
    return std::nullopt;
}

Problem read_env(const json& value, daemon::SessionSpec& spec) {
    if (!value.is_object())
        return "env must be an object of variables for the command's environment, such as "
               "{\"DJANGO_SETTINGS_MODULE\": \"app.settings\"}";
    for (const auto& variable : value.items()) {
        if (!variable.value().is_string()) return "env: the value of " + variable.key() + " must be a string";
        spec.env[variable.key()] = variable.value().get<std::string>();
    }
    return std::nullopt;
}

Problem read_cwd(const json& value, daemon::SessionSpec& spec) {
    if (!value.is_string() || !value.get<std::string>().starts_with('/'))
        return "cwd must be an absolute path: the command's working directory";
    spec.cwd = value.get<std::string>();
    if (spec.cwd.find('\0') != std::string::npos || spec.cwd.size() >= 4096)
        return "cwd must be a path of at most 4095 bytes, without NUL";
    return std::nullopt;
}

Problem read_flag(const json& value, bool& target, const std::string& key) {
    if (!value.is_boolean()) return key + " must be true or false";
    target = value.get<bool>();
    return std::nullopt;
}

// The true-or-false fields: idle, gil_only, threads, function, blocking, subprocesses.
bool* flag_named(const std::string& key, daemon::SessionSpec& spec) {
    auto& a = spec.aggregation;
    if (key == "idle") return &a.include_idle;
    if (key == "gil_only") return &a.gil_only;
    if (key == "threads") return &a.per_thread;
    if (key == "function") return &a.by_function;
    if (key == "blocking") return &spec.blocking;
    if (key == "subprocesses") return &spec.subprocesses;
    return nullptr;
}

Problem read_field(const std::string& key, const json& value, daemon::SessionSpec& spec) {
    if (key == "pid") {
        if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > INT_MAX)
            return "pid must be a process id: a whole number from 1 to " + std::to_string(INT_MAX);
        spec.pid = static_cast<pid_t>(value.get<long long>());
    } else if (key == "command") {
        return read_command(value, spec);
    } else if (key == "env") {
        return read_env(value, spec);
    } else if (key == "cwd") {
        return read_cwd(value, spec);
    } else if (key == "rate_hz") {
        if (!value.is_number()) return "rate_hz must be a number of samples per second";
        spec.rate_hz = value.get<double>();
    } else if (key == "duration_s") {
        if (!value.is_null() && !value.is_number()) return "duration_s must be a number of seconds (or null: until stopped)";
        spec.duration_s = value.is_null() ? std::nullopt : std::optional(value.get<double>());  // null: until stopped
    } else if (key == "name") {
        if (!value.is_string()) return "name must be a string";
        spec.name = value.get<std::string>();
    } else if (bool* flag = flag_named(key, spec)) {
        return read_flag(value, *flag, key);
    } else {
        return "unknown field '" + key +
               "'; the fields are pid, command, env, cwd, rate_hz, duration_s, name, idle, gil_only, threads, "
               "function, blocking, subprocesses";
    }
    return std::nullopt;
}

}  // namespace

daemon::Result<daemon::SessionSpec> parse_session_request(std::string_view body) {
    auto fail = [](std::string field, std::string message) {
        return std::unexpected(daemon::Error{daemon::Error::Kind::invalid, std::move(message), std::move(field)});
    };
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded())
        return fail({}, "the body is not JSON; send an object such as {\"pid\": 4242, \"rate_hz\": 100, \"duration_s\": 10}");
    if (!parsed.is_object()) return fail({}, "the body must be a JSON object");
    daemon::SessionSpec spec;
    for (const auto& item : parsed.items())
        if (auto problem = read_field(item.key(), item.value(), spec)) return fail(item.key(), std::move(*problem));
    if (!spec.pid && spec.command.empty())
        return fail("pid", "give pid (a running process) or command (a program to launch)");
    if (spec.pid && !spec.command.empty()) return fail("pid", "give pid or command, not both");
    if (spec.pid && (!spec.env.empty() || !spec.cwd.empty()))
        return fail(spec.env.empty() ? "cwd" : "env", "env and cwd are for a command pyprofd launches, not a running process");
    return spec;
}

}  // namespace pyprofd::api
