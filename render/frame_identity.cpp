#include "render/frame_identity.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>

#include "render/python2_modules.hpp"

namespace pyprofd::render {
namespace {

std::string plain_relative(std::string_view path) {
    auto normal = std::filesystem::path(path).lexically_normal().generic_string();
    while (normal.starts_with("./")) normal.erase(0, 2);
    if (normal.empty() || normal == ".") return std::string(path);
    return normal;
}

// "<frozen importlib._bootstrap>" (3.11+ freezes part of the standard library into
// the interpreter) is importlib/_bootstrap.py of the standard library.
std::optional<std::string> frozen_module_file(std::string_view file) {
    constexpr std::string_view open = "<frozen ";
    if (!file.starts_with(open) || !file.ends_with('>')) return std::nullopt;
    std::string module(file.substr(open.size(), file.size() - open.size() - 1));
    if (module.empty()) return std::nullopt;
    for (char& c : module)
        if (c == '.') c = '/';
    return module + ".py";
}

// Where a path goes into a packages directory: the part after ".../site-packages/"
// or ".../dist-packages/" (the last, for a package installed inside another's tree).
std::optional<std::string_view> inside_site_packages(std::string_view file) {
    std::size_t best_end = 0;
    for (std::string_view marker : {"/site-packages/", "/dist-packages/"}) {
        auto at = file.rfind(marker);
        if (at != std::string_view::npos) best_end = std::max(best_end, at + marker.size());
    }
    if (best_end == 0) return std::nullopt;
    return file.substr(best_end);
}

// The part after ".../lib/pythonX.Y/" (or lib64, or an ABI suffix: python3.11d).
std::optional<std::string_view> inside_python_lib(std::string_view file) {
    for (std::string_view marker : {"/lib/python", "/lib64/python"}) {
        for (auto at = file.find(marker); at != std::string_view::npos; at = file.find(marker, at + 1)) {
            auto rest = file.substr(at + marker.size());
            std::size_t i = 0;
            auto digits = [&] {
                std::size_t start = i;
                while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
                return i > start;
            };
            if (!digits()) continue;
            if (i < rest.size() && rest[i] == '.') {
                ++i;
                if (!digits()) continue;
            }
            while (i < rest.size() && std::isalpha(static_cast<unsigned char>(rest[i]))) ++i;
            if (i < rest.size() && rest[i] == '/') return rest.substr(i + 1);
        }
    }
    return std::nullopt;
}

std::string without_compiled_ending(std::string_view file) {
    if (file.ends_with(".pyc") || file.ends_with(".pyo")) file.remove_suffix(1);
    return std::string(file);
}

// A file of the standard library, relative to its directory: Python 2's subfolders
// of sys.path (lib-tk/, plat-linux2/, lib-old/) taken off, renamed modules renamed.
SourceFile standard_library_file(std::string_view relative) {
    auto name = without_compiled_ending(plain_relative(relative));
    for (std::string_view folder : {"lib-tk/", "lib-old/", "plat-"}) {
        if (!name.starts_with(folder)) continue;
        auto slash = name.find('/');
        if (slash != std::string::npos) name.erase(0, slash + 1);
        break;
    }
    SourceFile source;
    auto heirs = python3_files_of(name);
    if (!heirs.empty()) {
        name = heirs.front();
        for (auto heir : heirs.subspan(1)) source.alternatives.push_back(std::string(standard_library_prefix) + std::string(heir));
    }
    source.name = std::string(standard_library_prefix) + name;
    return source;
}

bool is_under(std::string_view file, std::string_view directory) {
    if (directory.empty()) return false;
    if (directory == "/") return file.starts_with('/');
    while (directory.size() > 1 && directory.ends_with('/')) directory.remove_suffix(1);
    return file.size() > directory.size() + 1 && file.starts_with(directory) && file[directory.size()] == '/';
}

std::string_view below(std::string_view file, std::string_view directory) {
    while (directory.size() > 1 && directory.ends_with('/')) directory.remove_suffix(1);
    return file.substr(directory == "/" ? 1 : directory.size() + 1);
}

}  // namespace

SourceFile normalized_source_file(std::string_view file, const ProcessSources* sources) {
    if (auto frozen = frozen_module_file(file)) return standard_library_file(*frozen);
    if (file.starts_with('<')) return {std::string(file), {}};  // <string>, <stdin>: no file to name
    if (sources && is_under(file, sources->standard_library)) {
        auto relative = below(file, sources->standard_library);
        for (std::string_view packages : {"site-packages/", "dist-packages/"})
            if (relative.starts_with(packages))
                return {std::string(site_packages_prefix) + without_compiled_ending(plain_relative(relative.substr(packages.size()))), {}};
        return standard_library_file(relative);
    }
    if (auto package = inside_site_packages(file))
        return {std::string(site_packages_prefix) + without_compiled_ending(plain_relative(*package)), {}};
    if (auto library = inside_python_lib(file)) return standard_library_file(*library);
    if (!file.starts_with('/')) return {without_compiled_ending(plain_relative(file)), {}};
    if (sources && is_under(file, sources->working_directory))
        return {without_compiled_ending(plain_relative(below(file, sources->working_directory))), {}};
    return {without_compiled_ending(plain_relative(file)), {}};
}

}  // namespace pyprofd::render
