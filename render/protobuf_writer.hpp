#pragma once
// Just enough of the protocol buffers wire format to write a message: varints,
// length-delimited fields (strings, nested messages) and packed repeated integers.
// pprof's profile.proto is small and fixed, so a generator and its runtime would
// weigh more than the format.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pyprofd::render {

class ProtobufWriter {
public:
    void varint_field(std::uint32_t field, std::uint64_t value) {
        tag(field, 0);
        varint(value);
    }
    // int64 fields are varints of the two's complement value.
    void int64_field(std::uint32_t field, std::int64_t value) { varint_field(field, static_cast<std::uint64_t>(value)); }

    void bytes_field(std::uint32_t field, std::string_view bytes) {
        tag(field, 2);
        varint(bytes.size());
        out_.append(bytes);
    }
    void message_field(std::uint32_t field, const ProtobufWriter& message) { bytes_field(field, message.out_); }

    template <typename Integer>
    void packed_field(std::uint32_t field, std::span<const Integer> values) {
        if (values.empty()) return;
        scratch_.clear();
        for (auto v : values) append_varint(scratch_, static_cast<std::uint64_t>(v));
        bytes_field(field, scratch_);
    }

    void clear() { out_.clear(); }
    const std::string& bytes() const { return out_; }

private:
    static void append_varint(std::string& to, std::uint64_t value) {
        while (value >= 0x80) {
            to.push_back(static_cast<char>((value & 0x7f) | 0x80));
            value >>= 7;
        }
        to.push_back(static_cast<char>(value));
    }
    void varint(std::uint64_t value) { append_varint(out_, value); }
    void tag(std::uint32_t field, std::uint32_t wire_type) { varint((static_cast<std::uint64_t>(field) << 3) | wire_type); }

    std::string out_;
    std::string scratch_;
};

}  // namespace pyprofd::render
