#pragma once
// How much of a size that the target's memory states pyprofd believes. The target
// can write anything there (its memory is input, and it may be hostile), so every
// length, count and depth read from it is held to one of these before it decides
// how much is read, allocated or walked. Past a limit the read fails as bad data
// rather than being cut short, where a shortened string or table would mislead
// (a wrong name, a wrong line); where noted, the extra work is left undone instead.
// Each is far above what a real program has.
#include <cstddef>

namespace pyprofd::sampler {

// Strings and tables a frame is shown with.
inline constexpr std::size_t max_name_chars = 4096;           // a file, function or qualified name
inline constexpr std::size_t max_thread_name_chars = 1024;    // a threading.Thread's name
// All the names kept at once (in UTF-8): past it, further threads have no name.
inline constexpr std::size_t max_thread_name_bytes = 4 << 20;
inline constexpr std::size_t max_line_table_bytes = 1 << 20;  // co_linetable / co_lnotab

// Containers read for thread names.
inline constexpr std::size_t max_dict_entries = 1 << 16;         // sys.modules, threading._active, a module's dict
inline constexpr std::size_t max_shared_keys_entries = 1 << 12;  // the attributes of one instance

// The walk of a sample.
inline constexpr std::size_t max_interpreters = 256;
inline constexpr std::size_t max_threads = 1 << 16;
inline constexpr std::size_t max_frames_per_thread = 4096;
// All threads together: 65536 threads of 4096 frames would be 6 GiB of frames.
// The threads past it in a sample carry an error instead of a stack.
inline constexpr std::size_t max_frames_per_sample = 1 << 18;
// A stack that does not hold together is read again (up to twice) after the thread
// list is read afresh; this many times a sample at most, so that a target whose every
// stack is broken cannot make a sample read its thread list once per thread.
inline constexpr std::size_t max_stack_rereads_per_sample = 64;

// What the caches keep: past either bound the code cache starts over.
inline constexpr std::size_t max_cached_code_objects = 1 << 16;
inline constexpr std::size_t max_code_cache_bytes = 64 << 20;  // names and decoded line tables

// _Py_DebugOffsets: a section (struct) size past this is not a CPython's.
inline constexpr std::size_t max_debug_offsets_section_size = 1 << 20;

// Finding OS thread ids before 3.11: the bytes of a pthread descriptor searched for
// the tid, and how many threads' descriptors are read to learn where it is.
inline constexpr std::size_t pthread_descriptor_scan = 2048;
inline constexpr std::size_t max_threads_to_learn_tids_from = 64;

// The .bss searched for the version string of an interpreter without symbols (its
// size comes from the interpreter's ELF file, which the target's owner may have written).
inline constexpr std::size_t max_bss_scan_bytes = 64 << 20;

// Thread stat files kept open between samples (one per thread the target names);
// past this, a thread's file is opened and closed for each reading.
inline constexpr std::size_t max_open_thread_stat_files = 1024;
// Parked threads watched for being put on a CPU (sched_in_watch.hpp), per process: a
// descriptor and a locked page each.
inline constexpr std::size_t max_sched_in_watches = 1024;

}  // namespace pyprofd::sampler
