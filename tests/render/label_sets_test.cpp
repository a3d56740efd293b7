// Frame identity over real label sets: the frames pyprofd recorded of one program
// (tests/targets/label_program) under every interpreter here (pyenv 2.7 and 3.6-3.13,
// Debian's 3.11, Debian sid's 3.14 and 3.15), with what the program said of itself:
// its working directory, standard library and site-packages
// (tests/render/make_label_sets.py made them).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "render/diff_table.hpp"
#include "render/folded.hpp"
#include "render/frame_identity.hpp"
#include "render/frame_label.hpp"
#include "render/frame_matching.hpp"

using namespace pyprofd::render;

namespace {

struct LabelSet {
    std::string name;
    ProcessSources sources;
    std::vector<std::string> site_packages;
    Profile by_line, by_function;
};

const std::string data_dir = std::string(PYPROFD_SOURCE_DIR) + "/tests/render/data/label_sets";

Profile read_profile(const std::string& path) {
    Profile profile;
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    REQUIRE_FALSE(read_folded(in, profile));
    REQUIRE(profile.total_samples() > 0);
    return profile;
}

std::vector<LabelSet> label_sets() {
    std::vector<LabelSet> sets;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
        if (entry.path().extension() != ".json") continue;
        auto truth = nlohmann::json::parse(std::ifstream(entry.path()));
        LabelSet set;
        set.name = entry.path().stem().string();
        set.sources = {.python_version = truth["python_version"],
                       .working_directory = truth["working_directory"],
                       .standard_library = truth["standard_library"]};
        set.site_packages = truth["site_packages"].get<std::vector<std::string>>();
        set.by_line = read_profile(data_dir + "/" + set.name + ".folded");
        set.by_function = read_profile(data_dir + "/" + set.name + "-function.folded");
        sets.push_back(std::move(set));
    }
    std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return sets;
}

bool under(const std::string& file, const std::string& directory) {
    return file.size() > directory.size() && file.starts_with(directory) && file[directory.size()] == '/';
}

// The program's own files, as every run must name them: relative to the directory
// it was started from (`python app/label_program.py`).
const std::set<std::string> own_files{"app/label_program.py", "app/helpers/records.py", "app/helpers/__init__.py"};

}  // namespace

TEST_CASE("every interpreter's label set: files named <stdlib>/, <site>/ or relative to the working directory") {
    auto sets = label_sets();
    CHECK_MESSAGE(sets.size() >= 12, "label sets found: " << sets.size());
    for (const auto& set : sets) {
        CAPTURE(set.name);
        std::map<std::string, int> kinds;
        for (const Profile* profile : {&set.by_line, &set.by_function}) {
            for (FrameId f = 0; f < profile->frame_count(); ++f) {
                const auto& label = profile->label(f);
                auto parsed = parse_frame_label(label);
                if (parsed.file.empty()) continue;  // <idle>
                std::string file(parsed.file);
                CAPTURE(label);
                auto named = normalized_source_file(file, &set.sources).name;
                bool in_site = false;
                for (const auto& site : set.site_packages) in_site = in_site || under(file, site);
                if (in_site) {
                    CHECK(named.starts_with("<site>/"));
                    ++kinds["site"];
                } else if (under(file, set.sources.standard_library) || file.starts_with("<frozen ")) {
                    CHECK(named.starts_with("<stdlib>/"));
                    CHECK(named.find(set.sources.standard_library) == std::string::npos);
                    ++kinds["stdlib"];
                } else if (file == "__init__" || file == "<string>" || file == "<shim>") {
                    // The interpreter's own shims (3.12's trampoline, 3.14's __init__ check)
                    // and namedtuple's generated methods: no file to name.
                    ++kinds["none"];
                    continue;
                } else {
                    CHECK_MESSAGE(own_files.contains(named), named);
                    ++kinds["own"];
                }
                // Without the process's own directories, the path's shape names the
                // standard library and packages the same way.
                if (in_site || under(file, set.sources.standard_library))
                    CHECK(normalized_source_file(file, nullptr).name == named);
            }
        }
        CHECK(kinds["stdlib"] > 10);
        CHECK(kinds["own"] > 2);
        MESSAGE(set.name << ": " << kinds["stdlib"] << " standard library, " << kinds["site"] << " package, "
                         << kinds["own"] << " own, " << kinds["none"] << " fileless frames");
    }
}

TEST_CASE("every interpreter's set against 2.7's and against each other: the program's functions are matched") {
    auto sets = label_sets();
    const LabelSet* python27 = nullptr;
    for (const auto& s : sets)
        if (s.sources.python_version.starts_with("2.7")) python27 = &s;
    REQUIRE(python27);
    // Functions every run has on its stacks (idle threads included): the program's
    // own, and the standard library's that Python 3 renamed or moved.
    const std::vector<std::pair<std::string, std::string>> shared{
        {"<stdlib>/threading.py", "_bootstrap_inner"},
        {"<stdlib>/threading.py", "run"},
        {"<stdlib>/socketserver.py", "serve_forever"},
        {"<stdlib>/queue.py", "get"},
        {"<stdlib>/queue.py", "put"},
        {"<stdlib>/urllib/request.py", "urlopen"},
        {"app/label_program.py", "main"},
        {"app/label_program.py", "fetch_forever"},
        {"app/label_program.py", "produce"},
        {"app/label_program.py", "consume"},
    };
    auto last_part = [](const std::string& name) {
        auto dot = name.rfind('.');
        return dot == std::string::npos ? name : name.substr(dot + 1);
    };
    for (std::size_t i = 0; i < sets.size(); ++i) {
        const auto& after = sets[i];
        // Against 2.7, and against the set before it (each 3.x against another).
        std::vector<const LabelSet*> befores{python27, &sets[(i + sets.size() - 1) % sets.size()]};
        for (const LabelSet* before : befores) {
            if (before == &after) continue;
            CAPTURE(before->name);
            CAPTURE(after.name);
            auto matched = match_profiles(before->by_function, {before->sources}, after.by_function, {after.sources});
            auto table = diff_table(matched, DiffSort::self, {before->name, {}}, {after.name, {}});
            for (const auto& [file, function] : shared) {
                CAPTURE(file);
                CAPTURE(function);
                const DiffRow* found = nullptr;
                for (const auto& row : table.rows)
                    if (row.file == file && last_part(row.function) == function) found = &row;
                REQUIRE_MESSAGE(found, "no row");
                CHECK_MESSAGE(found->before_total.has_value(), "not matched: only in after");
                CHECK_MESSAGE(found->after_total.has_value(), "not matched: only in before");
            }
            MESSAGE(before->name << " -> " << after.name << ": " << table.matched_functions << " of "
                                 << table.after_functions << " functions matched, "
                                 << table.after_samples_matched_percent << "% of samples on matched stacks");
        }
    }
}
