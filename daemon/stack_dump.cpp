#include "daemon/stack_dump.hpp"

#include <fmt/format.h>

#include "render/label_text.hpp"

namespace pyprofd::daemon {
namespace {

std::string joined_command_line(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
}

std::string thread_status(const sampler::ThreadStack& t) {
    std::string status = t.activity == sampler::ThreadActivity::running ? "active"
                         : t.activity == sampler::ThreadActivity::idle  ? "idle"
                                                                        : "unknown";
    if (t.holds_gil.value_or(false)) status += "+gil";
    return status;
}

std::string layout_source_name(sampler::LayoutSource source) {
    return source == sampler::LayoutSource::debug_offsets ? "_Py_DebugOffsets" : "built-in table";
}

}  // namespace

std::string format_dump_text(const sampler::PythonProcess& process, const sampler::StackSample& sample) {
    std::string out = fmt::format("Process {}", process.pid());
    if (process.namespace_pid() != process.pid()) out += fmt::format(" [PID {} in its PID namespace]", process.namespace_pid());
    out += fmt::format(": {}\n", joined_command_line(process.command_line()));
    out += fmt::format("Python v{} ({})\n", process.version().to_string(), process.executable());
    for (const auto& t : sample.threads) {
        out += fmt::format("\nThread {}", t.native_id != 0 ? std::to_string(t.native_id) : fmt::format("{:#x}", t.ident));
        if (t.namespace_tid != 0) out += fmt::format(" [TID {} in its PID namespace]", t.namespace_tid);
        out += fmt::format(" ({})", thread_status(t));
        // Names from the target reach a terminal: no escape sequence or line of its own.
        if (!t.name.empty()) out += fmt::format(": \"{}\"", render::safe_label_text(t.name));
        out += "\n";
        if (t.error) out += fmt::format("    <stack not readable: {}>\n", t.error->message);
        for (const auto& f : t.frames) {
            auto function = render::safe_label_text(f.function());
            auto file = render::safe_label_text(f.filename());
            if (f.line >= 0)
                out += fmt::format("    {} ({}:{})\n", function, file, f.line);
            else
                out += fmt::format("    {} ({})\n", function, file);
        }
    }
    return out;
}

nlohmann::json format_dump_json(const sampler::PythonProcess& process, const sampler::StackSample& sample) {
    nlohmann::json threads = nlohmann::json::array();
    for (const auto& t : sample.threads) {
        nlohmann::json frames = nlohmann::json::array();
        for (const auto& f : t.frames) {
            frames.push_back({{"function", f.function()},
                              {"filename", f.filename()},
                              {"line", f.line >= 0 ? nlohmann::json(f.line) : nlohmann::json(nullptr)}});
        }
        threads.push_back({
            {"native_id", t.native_id != 0 ? nlohmann::json(t.native_id) : nlohmann::json(nullptr)},
            {"namespace_tid", t.namespace_tid != 0 ? nlohmann::json(t.namespace_tid) : nlohmann::json(nullptr)},
            {"ident", t.ident},
            {"name", t.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.name.str())},
            {"activity", sampler::to_string(t.activity)},
            {"holds_gil", t.holds_gil ? nlohmann::json(*t.holds_gil) : nlohmann::json(nullptr)},
            {"frames", frames},
            {"error", t.error ? nlohmann::json(t.error->message) : nlohmann::json(nullptr)},
        });
    }
    return {
        {"pid", process.pid()},
        {"namespace_pid", process.namespace_pid() != process.pid() ? nlohmann::json(process.namespace_pid())
                                                                   : nlohmann::json(nullptr)},
        {"command_line", process.command_line()},
        {"executable", process.executable()},
        {"python",
         {{"version", process.version().to_string()},
          {"binary", process.binary().path},
          {"layout_source", layout_source_name(process.layout_source())}}},
        {"threads", threads},
    };
}

}  // namespace pyprofd::daemon
