#include "sampler/layout.hpp"

namespace pyprofd::sampler {

void Layout::for_each_offset(const std::function<void(std::string_view, Offset)>& visit) const {
    visit("runtime.interpreters_head", runtime.interpreters_head);
    visit("runtime.tstate_current", runtime.tstate_current);
    visit("interpreter.next", interpreter.next);
    visit("interpreter.threads_head", interpreter.threads_head);
    visit("interpreter.modules", interpreter.modules);
    visit("interpreter.ceval_gil", interpreter.ceval_gil);
    visit("thread.next", thread.next);
    visit("thread.interp", thread.interp);
    visit("thread.frame", thread.frame);
    visit("thread.thread_id", thread.thread_id);
    visit("thread.native_thread_id", thread.native_thread_id);
    visit("thread.datastack_chunk", thread.datastack_chunk);
    visit("cframe.current_frame", cframe.current_frame);
    visit("frame_object.back", frame_object.back);
    visit("frame_object.code", frame_object.code);
    visit("frame_object.lasti", frame_object.lasti);
    visit("interpreter_frame.code", interpreter_frame.code);
    visit("interpreter_frame.previous", interpreter_frame.previous);
    visit("interpreter_frame.instr_ptr", interpreter_frame.instr_ptr);
    visit("interpreter_frame.owner", interpreter_frame.owner);
    visit("code.filename", code.filename);
    visit("code.name", code.name);
    visit("code.qualname", code.qualname);
    visit("code.firstlineno", code.firstlineno);
    visit("code.linetable", code.linetable);
    visit("code.code_adaptive", code.code_adaptive);
    visit("gil_state.locked", gil_state.locked);
    visit("gil_state.last_holder", gil_state.last_holder);
    visit("object.ob_type", object.ob_type);
    visit("type.tp_name", type.tp_name);
    visit("type.tp_basicsize", type.tp_basicsize);
    visit("type.tp_flags", type.tp_flags);
    visit("type.tp_dictoffset", type.tp_dictoffset);
    visit("type.ht_cached_keys", type.ht_cached_keys);
    visit("bytes.ob_size", bytes.ob_size);
    visit("bytes.data", bytes.data);
    visit("unicode.length", unicode.length);
    visit("unicode.state", unicode.state);
    visit("unicode.ascii_data", unicode.ascii_data);
    visit("unicode.compact_data", unicode.compact_data);
    visit("dict.used", dict.used);
    visit("dict.keys", dict.keys);
    visit("dict.values", dict.values);
    visit("dict.mask", dict.mask);
    visit("dict.table", dict.table);
    visit("dict_keys.size", dict_keys.size);
    visit("dict_keys.log2_index_bytes", dict_keys.log2_index_bytes);
    visit("dict_keys.kind", dict_keys.kind);
    visit("dict_keys.nentries", dict_keys.nentries);
    visit("dict_keys.indices", dict_keys.indices);
    visit("dict_values.values", dict_values.values);
    visit("module.md_dict", module.md_dict);
    visit("integer.size", integer.size);
    visit("integer.digits", integer.digits);
}

}  // namespace pyprofd::sampler
