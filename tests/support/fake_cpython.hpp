#pragma once
// A CPython process built by hand: the memory a real interpreter of one version
// holds for a few threads (runtime, interpreter and thread states, frames, code
// objects, strings, line tables, sys.modules down to threading._active and each
// thread's name, the GIL), laid out with pyprofd's built-in layout of that version
// (3.13+: behind a copy of a real _Py_DebugOffsets of that version), in a buffer at a fixed
// address. PythonProcess::attach_to_address_space reads it as it reads a live
// process. The attach fuzzer's seeds are such images; the unit tests damage one
// field of a good one and check that exactly that is refused.
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sampler/address_space.hpp"
#include "sampler/debug_offsets.hpp"
#include "sampler/layout.hpp"
#include "sampler/python_binary.hpp"
#include "sampler/python_types.hpp"

namespace pyprofd::tests {

struct FakeFrame {
    std::string function;  // the qualified name, where the version has one
    std::string file;
    int first_line = 1;
    int line = 1;
};

struct FakeThread {
    std::string name;               // its threading name; empty: not in threading._active
    std::vector<FakeFrame> frames;  // innermost first
    pid_t native_id = 0;            // 0: made up (1000 + its index)
};

// Where every image lies. The symbols are at the same places in every version's
// image, so that one symbol table serves them all (and a fuzzer can turn one
// version into another by changing bytes alone).
inline constexpr std::uint64_t fake_image_base = 0x10000000;

class FakeCPython {
public:
    FakeCPython(int major, int minor, const std::vector<FakeThread>& threads);

    // The interpreter's symbols, as a binary that holds them.
    static sampler::PythonBinary binary();
    // The built-in types' addresses among them, for an ObjectReader of the image.
    sampler::PythonTypes types() const;

    const sampler::Layout& layout() const { return layout_; }
    const std::vector<std::byte>& bytes() const { return image_; }
    // A copy of the image as it is now, to attach to.
    std::shared_ptr<const sampler::AddressSpace> address_space() const;

    // Reading and changing the image, at addresses in it.
    template <class T>
    T read(std::uint64_t address) const {
        T value;
        std::memcpy(&value, at(address, sizeof value), sizeof value);
        return value;
    }
    template <class T>
    void write(std::uint64_t address, const T& value) {
        std::memcpy(at(address, sizeof value), &value, sizeof value);
    }

    // The _Py_DebugOffsets of a real interpreter of that version (3.13+), empty for
    // older ones; and the layout an image of that version is built with (3.14+: the
    // built-in row with that table's offsets, as pyprofd reads it).
    static std::vector<std::byte> real_debug_offsets(int major, int minor);
    static sampler::Layout layout_of(int major, int minor);

    // 3.13+: the image's _Py_DebugOffsets, to change a field of it.
    sampler::DebugOffsets313 debug_offsets() const { return read<sampler::DebugOffsets313>(runtime_address()); }
    void set_debug_offsets(const sampler::DebugOffsets313& table) { write(runtime_address(), table); }

    // Where things were built.
    static std::uint64_t runtime_address();
    std::uint64_t interpreter() const { return interpreter_; }
    std::uint64_t thread_state(std::size_t thread) const { return thread_states_.at(thread); }
    std::uint64_t frame(std::size_t thread, std::size_t depth) const { return frames_.at(thread).at(depth); }
    std::uint64_t code_object(std::size_t thread, std::size_t depth) const { return codes_.at(thread).at(depth); }
    std::uint64_t active_dict() const { return active_dict_; }  // threading._active

private:
    std::byte* at(std::uint64_t address, std::size_t size);
    const std::byte* at(std::uint64_t address, std::size_t size) const;
    std::uint64_t allocate(std::size_t size);
    void put_pointer(std::uint64_t object, sampler::Offset offset, std::uint64_t value);
    template <class T>
    void put(std::uint64_t object, sampler::Offset offset, T value) {
        if (offset != sampler::absent) write(object + static_cast<std::uint64_t>(offset), value);
    }

    std::uint64_t object(std::size_t size, std::uint64_t type);
    std::uint64_t str(const std::string& utf8);
    std::uint64_t bytes(const std::vector<std::uint8_t>& data);
    std::uint64_t integer(std::uint64_t value);
    std::uint64_t dict(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& entries, bool str_keys);
    std::uint64_t code(const FakeFrame& frame);
    std::vector<std::uint8_t> line_table(int first_line, int line) const;
    std::uint64_t thread_names(const std::vector<FakeThread>& threads, const std::vector<std::uint64_t>& idents);

    sampler::Layout layout_;
    std::vector<std::byte> image_;
    std::uint64_t interpreter_ = 0;
    std::uint64_t active_dict_ = 0;
    std::vector<std::uint64_t> thread_states_;
    std::vector<std::vector<std::uint64_t>> frames_;
    std::vector<std::vector<std::uint64_t>> codes_;
};

}  // namespace pyprofd::tests
