#include "render/pprof.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

#include "render/frame_label.hpp"
#include "render/gzip.hpp"
#include "render/thread_roots.hpp"
#include "render/protobuf_writer.hpp"

namespace pyprofd::render {
namespace {

// Field numbers of profile.proto (github.com/google/pprof/proto/profile.proto).
namespace field {
constexpr std::uint32_t sample_type = 1, sample = 2, location = 4, function = 5, string_table = 6,
                        time_nanos = 9, duration_nanos = 10, period_type = 11, period = 12, comment = 13,
                        default_sample_type = 14;
constexpr std::uint32_t value_type_type = 1, value_type_unit = 2;
constexpr std::uint32_t sample_location_id = 1, sample_value = 2, sample_label = 3;
constexpr std::uint32_t label_key = 1, label_str = 2, label_num = 3;
constexpr std::uint32_t location_id = 1, location_line = 4;
constexpr std::uint32_t line_function_id = 1, line_line = 2;
constexpr std::uint32_t function_id = 1, function_name = 2, function_filename = 4, function_start_line = 5;
}  // namespace field

// pprof's strings are indices into one table whose first entry is "".
class StringTable {
public:
    StringTable() { index(""); }
    std::int64_t index(std::string_view s) {
        auto [it, inserted] = ids_.try_emplace(std::string(s), static_cast<std::int64_t>(strings_.size()));
        if (inserted) strings_.emplace_back(s);
        return it->second;
    }
    const std::vector<std::string>& strings() const { return strings_; }

private:
    std::unordered_map<std::string, std::int64_t> ids_;
    std::vector<std::string> strings_;
};

// One location per frame label; one function per (name, file), its first line
// the smallest line seen, as near to the def as samples tell.
class LocationTable {
public:
    explicit LocationTable(const Profile& profile) : profile_(profile), location_of_frame_(profile.frame_count(), 0) {}

    std::uint64_t location_id(FrameId frame) {
        if (location_of_frame_[frame]) return location_of_frame_[frame];
        auto parsed = parse_frame_label(profile_.label(frame));
        FunctionKey key{parsed.function, parsed.file};
        auto [it, inserted] = function_ids_.try_emplace(key, functions_.size() + 1);
        if (inserted) {
            functions_.push_back(key);
            function_start_line_.push_back(parsed.line > 0 ? parsed.line : 0);
        } else if (parsed.line > 0) {
            auto& start = function_start_line_[it->second - 1];
            if (start == 0 || parsed.line < start) start = parsed.line;
        }
        locations_.push_back({it->second, parsed.line > 0 ? parsed.line : 0});
        return location_of_frame_[frame] = locations_.size();
    }

    // Every location, then every function.
    void write(ProtobufWriter& out, StringTable& strings) const {
        ProtobufWriter part, inner;
        for (std::size_t i = 0; i < locations_.size(); ++i) {
            inner.clear();
            inner.varint_field(field::line_function_id, locations_[i].function);
            if (locations_[i].line > 0) inner.int64_field(field::line_line, locations_[i].line);
            part.clear();
            part.varint_field(field::location_id, i + 1);
            part.message_field(field::location_line, inner);
            out.message_field(field::location, part);
        }
        for (std::size_t i = 0; i < functions_.size(); ++i) {
            auto name = strings.index(functions_[i].name);
            part.clear();
            part.varint_field(field::function_id, i + 1);
            // The name only, no system_name: pprof takes a function whose system_name
            // equals its name for a C++ name still to simplify, and cuts "<...>" and
            // "(...)" out of it, so "<module>" became "" and showed as <unknown>.
            // A name with a different (here, no) system_name is left as it is.
            part.int64_field(field::function_name, name);
            if (!functions_[i].file.empty()) part.int64_field(field::function_filename, strings.index(functions_[i].file));
            if (function_start_line_[i] > 0) part.int64_field(field::function_start_line, function_start_line_[i]);
            out.message_field(field::function, part);
        }
    }

private:
    struct FunctionKey {
        std::string_view name, file;
        auto operator<=>(const FunctionKey&) const = default;
    };
    struct Location {
        std::uint64_t function;
        std::int64_t line;
    };
    const Profile& profile_;
    std::map<FunctionKey, std::uint64_t> function_ids_;
    std::vector<std::int64_t> function_start_line_;
    std::vector<FunctionKey> functions_;
    std::vector<std::uint64_t> location_of_frame_;
    std::vector<Location> locations_;
};

void write_value_type(ProtobufWriter& out, std::uint32_t at, StringTable& strings, std::string_view type,
                      std::string_view unit) {
    ProtobufWriter part;
    part.int64_field(field::value_type_type, strings.index(type));
    part.int64_field(field::value_type_unit, strings.index(unit));
    out.message_field(at, part);
}

// A sample per stack: its locations (leaf first), its count (and time, where the
// period is known: period_ns > 0), and its thread as labels.
void write_samples(ProtobufWriter& out, const Profile& profile, StringTable& strings, LocationTable& locations,
                   bool timed, std::int64_t period_ns) {
    const auto thread_id_key = strings.index("thread_id");
    const auto thread_name_key = strings.index("thread_name");
    const RootFrames roots(profile);
    // Interned only when there are process roots: profiles of one process stay as they were.
    const std::int64_t pid_key = roots.has_process_roots() ? strings.index("pid") : 0;
    ProtobufWriter part, inner;
    std::vector<std::uint64_t> location_ids;
    std::int64_t values[2];
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        auto stack_roots = roots.of(path);
        std::optional<ThreadLabel> thread;
        if (stack_roots.thread) thread = parse_thread_label(profile.label(profile.node(path[*stack_roots.thread]).frame));
        std::optional<ProcessLabel> process;
        if (stack_roots.process) process = parse_process_label(profile.label(profile.node(path[*stack_roots.process]).frame));
        location_ids.clear();
        // pprof lists a sample's locations leaf first. A thread's root becomes its
        // labels; a process's stays a location too (its root frame in every format).
        for (std::size_t i = path.size(); i-- > 0;)
            if (stack_roots.thread != i) location_ids.push_back(locations.location_id(profile.node(path[i]).frame));
        // Saturated, not wrapped: pprof's values are signed 64-bit.
        constexpr auto most = std::numeric_limits<std::int64_t>::max();
        values[0] = self > static_cast<std::uint64_t>(most) ? most : static_cast<std::int64_t>(self);
        values[1] = period_ns > 0 && values[0] > most / period_ns ? most : values[0] * period_ns;
        part.clear();
        part.packed_field<std::uint64_t>(field::sample_location_id, location_ids);
        part.packed_field<std::int64_t>(field::sample_value, std::span<const std::int64_t>(values, timed ? 2 : 1));
        if (process) {
            inner.clear();
            inner.int64_field(field::label_key, pid_key);
            inner.int64_field(field::label_num, process->pid);
            part.message_field(field::sample_label, inner);
        }
        if (thread) {
            inner.clear();
            inner.int64_field(field::label_key, thread_id_key);
            inner.int64_field(field::label_num, thread->tid);
            part.message_field(field::sample_label, inner);
            if (!thread->name.empty()) {
                inner.clear();
                inner.int64_field(field::label_key, thread_name_key);
                inner.int64_field(field::label_str, strings.index(thread->name));
                part.message_field(field::sample_label, inner);
            }
        }
        out.message_field(field::sample, part);
    });
}

// When, for how long, at what period, and the comment.
void write_trailer(ProtobufWriter& out, StringTable& strings, const PprofOptions& options, std::string_view time_kind,
                   std::int64_t period_ns) {
    if (options.start_unix_ns) out.int64_field(field::time_nanos, *options.start_unix_ns);
    if (options.duration_ns) out.int64_field(field::duration_nanos, *options.duration_ns);
    if (options.rate_hz) {
        write_value_type(out, field::period_type, strings, time_kind, "nanoseconds");
        out.int64_field(field::period, period_ns);
        out.int64_field(field::default_sample_type, strings.index(time_kind));
    } else {
        write_value_type(out, field::period_type, strings, "samples", "count");
        out.int64_field(field::period, 1);
    }
    std::int64_t comment = options.comment.empty() ? 0 : strings.index(options.comment);
    if (comment) out.int64_field(field::comment, comment);
}

}  // namespace

std::string pprof_message(const Profile& profile, const PprofOptions& options) {
    StringTable strings;
    ProtobufWriter out;
    const char* time_kind = options.wall_clock ? "wall" : "cpu";
    const std::int64_t period_ns = options.rate_hz ? std::llround(1e9 / *options.rate_hz) : 0;

    write_value_type(out, field::sample_type, strings, "samples", "count");
    if (options.rate_hz) write_value_type(out, field::sample_type, strings, time_kind, "nanoseconds");
    LocationTable locations(profile);
    write_samples(out, profile, strings, locations, options.rate_hz.has_value(), period_ns);
    locations.write(out, strings);
    write_trailer(out, strings, options, time_kind, period_ns);

    // The string table goes last: only now is every string in it.
    ProtobufWriter table;
    for (const auto& s : strings.strings()) table.bytes_field(field::string_table, s);
    return out.bytes() + table.bytes();
}

std::expected<void, std::string> write_pprof(const Profile& profile, const PprofOptions& options, std::ostream& out) {
    auto compressed = gzip_compressed(pprof_message(profile, options));
    if (!compressed) return std::unexpected(compressed.error());
    out << *compressed;
    return {};
}

}  // namespace pyprofd::render
