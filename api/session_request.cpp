#include "api/session_request.hpp"

#include <climits>
#include <cmath>
#include <nlohmann/json.hpp>

namespace pyprofd::api {

daemon::Result<daemon::SessionSpec> parse_session_request(std::string_view body) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded())
        return std::unexpected(daemon::Error{daemon::Error::Kind::invalid,
                                             "the body is not JSON; send an object such as {\"pid\": 4242, "
                                             "\"rate_hz\": 100, \"duration_s\": 10}"});
    if (!json.is_object()) return std::unexpected(daemon::Error{daemon::Error::Kind::invalid, "the body must be a JSON object"});
    daemon::SessionSpec spec;
    auto fail = [](std::string field, std::string message) {
        return std::unexpected(daemon::Error{daemon::Error::Kind::invalid, std::move(message), std::move(field)});
    };
    for (const auto& item : json.items()) {
        // Named, not a structured binding: the lambda below captures them.
        const std::string& key = item.key();
        const nlohmann::json& value = item.value();
        auto flag = [&](bool& target) -> bool {
            if (!value.is_boolean()) return false;
            target = value.get<bool>();
            return true;
        };
        if (key == "pid") {
            if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > INT_MAX)
                return fail(key, "pid must be a process id: a whole number from 1 to " + std::to_string(INT_MAX));
            spec.pid = static_cast<pid_t>(value.get<long long>());
        } else if (key == "command") {
            if (!value.is_array() || value.empty())
                return fail(key, "command must be a non-empty array of strings: the program and its arguments");
            for (const auto& word : value) {
                if (!word.is_string()) return fail(key, "command must be an array of strings");
                spec.command.push_back(word.get<std::string>());
            }
            if (spec.command.front().empty()) return fail(key, "command's program name is empty");
        } else if (key == "env") {
            if (!value.is_object())
                return fail(key, "env must be an object of variables for the command's environment, such as "
                                 "{\"DJANGO_SETTINGS_MODULE\": \"app.settings\"}");
            for (const auto& variable : value.items()) {
                if (!variable.value().is_string())
                    return fail(key, "env: the value of " + variable.key() + " must be a string");
                spec.env[variable.key()] = variable.value().get<std::string>();
            }
        } else if (key == "cwd") {
            if (!value.is_string() || !value.get<std::string>().starts_with('/'))
                return fail(key, "cwd must be an absolute path: the command's working directory");
            spec.cwd = value.get<std::string>();
            if (spec.cwd.find('\0') != std::string::npos || spec.cwd.size() >= 4096)
                return fail(key, "cwd must be a path of at most 4095 bytes, without NUL");
        } else if (key == "rate_hz") {
            if (!value.is_number()) return fail(key, "rate_hz must be a number of samples per second");
            spec.rate_hz = value.get<double>();
        } else if (key == "duration_s") {
            if (value.is_null()) {
                spec.duration_s.reset();  // until stopped
            } else if (!value.is_number()) {
                return fail(key, "duration_s must be a number of seconds (or null: until stopped)");
            } else {
                spec.duration_s = value.get<double>();
            }
        } else if (key == "name") {
            if (!value.is_string()) return fail(key, "name must be a string");
            spec.name = value.get<std::string>();
        } else if (key == "idle") {
            if (!flag(spec.aggregation.include_idle)) return fail(key, "idle must be true or false");
        } else if (key == "gil_only") {
            if (!flag(spec.aggregation.gil_only)) return fail(key, "gil_only must be true or false");
        } else if (key == "threads") {
            if (!flag(spec.aggregation.per_thread)) return fail(key, "threads must be true or false");
        } else if (key == "function") {
            if (!flag(spec.aggregation.by_function)) return fail(key, "function must be true or false");
        } else if (key == "blocking") {
            if (!flag(spec.blocking)) return fail(key, "blocking must be true or false");
        } else {
            return fail(key, "unknown field '" + key +
                                 "'; the fields are pid, command, env, cwd, rate_hz, duration_s, name, idle, gil_only, "
                                 "threads, function, blocking");
        }
    }
    if (!spec.pid && spec.command.empty())
        return fail("pid", "give pid (a running process) or command (a program to launch)");
    if (spec.pid && !spec.command.empty()) return fail("pid", "give pid or command, not both");
    if (spec.pid && (!spec.env.empty() || !spec.cwd.empty()))
        return fail(spec.env.empty() ? "cwd" : "env", "env and cwd are for a command pyprofd launches, not a running process");
    return spec;
}

}  // namespace pyprofd::api
