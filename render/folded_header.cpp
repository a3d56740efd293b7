#include "render/folded_header.hpp"

#include <nlohmann/json.hpp>

namespace pyprofd::render {
namespace {

constexpr std::string_view source_prefix = "# source:";
constexpr std::string_view austin_python_prefix = "# python:";

std::string_view trimmed(std::string_view text) {
    auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

// A field of the source object: absent is empty; any other type is not ours.
bool read_text(const nlohmann::json& object, const char* key, std::string& into) {
    auto it = object.find(key);
    if (it == object.end()) return true;
    if (!it->is_string()) return false;
    into = it->get<std::string>();
    return true;
}

}  // namespace

std::string folded_header(const ProfileSources& sources) {
    if (sources.empty()) return {};
    std::string header = "# pyprofd folded stacks: lines starting with '#' are metadata\n";
    for (const auto& s : sources) {
        // In the order a person reads them, not sorted.
        nlohmann::ordered_json j{{"pid", s.pid},
                                 {"python", s.python_version},
                                 {"cwd", s.working_directory},
                                 {"stdlib", s.standard_library}};
        // Paths are the target's bytes: what is not UTF-8 becomes U+FFFD, never a throw.
        header += "# source: ";
        header += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        header += '\n';
    }
    return header;
}

std::optional<ProcessSources> folded_metadata_source(std::string_view line) {
    if (line.starts_with(austin_python_prefix)) {
        auto version = trimmed(line.substr(austin_python_prefix.size()));
        if (version.empty()) return std::nullopt;
        return ProcessSources{.pid = 0, .python_version = std::string(version)};
    }
    if (!line.starts_with(source_prefix)) return std::nullopt;
    auto j = nlohmann::json::parse(line.substr(source_prefix.size()), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    ProcessSources source;
    auto pid = j.find("pid");
    if (pid != j.end()) {
        if (!pid->is_number_integer() || pid->get<long long>() < 0) return std::nullopt;
        source.pid = pid->get<long>();
    }
    if (!read_text(j, "python", source.python_version) || !read_text(j, "cwd", source.working_directory) ||
        !read_text(j, "stdlib", source.standard_library))
        return std::nullopt;
    return source;
}

}  // namespace pyprofd::render
