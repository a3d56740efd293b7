#include "tests/sampler/layout_header_fields.hpp"

namespace pyprofd::tests {
namespace {

// Fields read the same way in every 3.x family.
void add_common_py3(HeaderFields& h) {
    h.fields.insert(h.fields.end(), {
        {"interpreter.next", "offsetof(PyInterpreterState, next)"},
        {"thread.next", "offsetof(PyThreadState, next)"},
        {"thread.interp", "offsetof(PyThreadState, interp)"},
        {"thread.thread_id", "offsetof(PyThreadState, thread_id)"},
        {"code.filename", "offsetof(PyCodeObject, co_filename)"},
        {"code.name", "offsetof(PyCodeObject, co_name)"},
        {"code.firstlineno", "offsetof(PyCodeObject, co_firstlineno)"},
        {"object.ob_type", "offsetof(PyObject, ob_type)"},
        {"type.tp_name", "offsetof(PyTypeObject, tp_name)"},
        {"type.tp_basicsize", "offsetof(PyTypeObject, tp_basicsize)"},
        {"type.tp_flags", "offsetof(PyTypeObject, tp_flags)"},
        {"type.tp_dictoffset", "offsetof(PyTypeObject, tp_dictoffset)"},
        {"type.ht_cached_keys", "offsetof(PyHeapTypeObject, ht_cached_keys)"},
        {"bytes.ob_size", "offsetof(PyBytesObject, ob_base.ob_size)"},
        {"bytes.data", "offsetof(PyBytesObject, ob_sval)"},
        {"unicode.length", "offsetof(PyASCIIObject, length)"},
        {"unicode.state", "offsetof(PyASCIIObject, state)"},
        {"unicode.ascii_data", "sizeof(PyASCIIObject)"},
        {"unicode.compact_data", "sizeof(PyCompactUnicodeObject)"},
        {"dict.used", "offsetof(PyDictObject, ma_used)"},
        {"dict.keys", "offsetof(PyDictObject, ma_keys)"},
        {"dict.values", "offsetof(PyDictObject, ma_values)"},
    });
}

void add_frame_objects(HeaderFields& h) {
    h.fields.insert(h.fields.end(), {
        {"thread.frame", "offsetof(PyThreadState, frame)"},
        {"frame_object.back", "offsetof(PyFrameObject, f_back)"},
        {"frame_object.code", "offsetof(PyFrameObject, f_code)"},
        {"frame_object.lasti", "offsetof(PyFrameObject, f_lasti)"},
    });
}

void add_runtime(HeaderFields& h) {
    h.fields.insert(h.fields.end(), {
        {"runtime.interpreters_head", "offsetof(_PyRuntimeState, interpreters.head)"},
    });
}

void add_long_ob_size(HeaderFields& h) {
    h.fields.insert(h.fields.end(), {
        {"integer.size", "offsetof(PyLongObject, ob_base.ob_size)"},
        {"integer.digits", "offsetof(PyLongObject, ob_digit)"},
    });
}

void add_dict_keys_311(HeaderFields& h) {
    h.fields.insert(h.fields.end(), {
        {"dict_keys.size", "offsetof(PyDictKeysObject, dk_log2_size)"},
        {"dict_keys.log2_index_bytes", "offsetof(PyDictKeysObject, dk_log2_index_bytes)"},
        {"dict_keys.kind", "offsetof(PyDictKeysObject, dk_kind)"},
        {"dict_keys.nentries", "offsetof(PyDictKeysObject, dk_nentries)"},
        {"dict_keys.indices", "offsetof(PyDictKeysObject, dk_indices)"},
        {"dict_values.values", "offsetof(PyDictValues, values)"},
        {"module.md_dict", "offsetof(PyModuleObject, md_dict)"},
    });
}

void add_interpreter_frames(HeaderFields& h, std::string_view code, std::string_view instr) {
    static std::vector<std::string> keep;  // the expressions must outlive the table
    keep.push_back("offsetof(_PyInterpreterFrame, " + std::string(code) + ")");
    std::string_view code_expr = keep.back();
    keep.push_back("offsetof(_PyInterpreterFrame, " + std::string(instr) + ")");
    std::string_view instr_expr = keep.back();
    h.fields.insert(h.fields.end(), {
        {"interpreter_frame.code", code_expr},
        {"interpreter_frame.previous", "offsetof(_PyInterpreterFrame, previous)"},
        {"interpreter_frame.instr_ptr", instr_expr},
        {"thread.native_thread_id", "offsetof(PyThreadState, native_thread_id)"},
        {"thread.datastack_chunk", "offsetof(PyThreadState, datastack_chunk)"},
        {"code.qualname", "offsetof(PyCodeObject, co_qualname)"},
        {"code.linetable", "offsetof(PyCodeObject, co_linetable)"},
        {"code.code_adaptive", "offsetof(PyCodeObject, co_code_adaptive)"},
    });
}

std::vector<HeaderFields> build() {
    std::vector<HeaderFields> all;

    HeaderFields py27{2, 7, "#include <Python.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", {
        {"interpreter.next", "offsetof(PyInterpreterState, next)"},
        {"interpreter.threads_head", "offsetof(PyInterpreterState, tstate_head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, modules)"},
        {"thread.next", "offsetof(PyThreadState, next)"},
        {"thread.interp", "offsetof(PyThreadState, interp)"},
        {"thread.frame", "offsetof(PyThreadState, frame)"},
        {"thread.thread_id", "offsetof(PyThreadState, thread_id)"},
        {"frame_object.back", "offsetof(PyFrameObject, f_back)"},
        {"frame_object.code", "offsetof(PyFrameObject, f_code)"},
        {"frame_object.lasti", "offsetof(PyFrameObject, f_lasti)"},
        {"code.filename", "offsetof(PyCodeObject, co_filename)"},
        {"code.name", "offsetof(PyCodeObject, co_name)"},
        {"code.firstlineno", "offsetof(PyCodeObject, co_firstlineno)"},
        {"code.linetable", "offsetof(PyCodeObject, co_lnotab)"},
        {"object.ob_type", "offsetof(PyObject, ob_type)"},
        {"type.tp_name", "offsetof(PyTypeObject, tp_name)"},
        {"type.tp_basicsize", "offsetof(PyTypeObject, tp_basicsize)"},
        {"type.tp_flags", "offsetof(PyTypeObject, tp_flags)"},
        {"type.tp_dictoffset", "offsetof(PyTypeObject, tp_dictoffset)"},
        {"bytes.ob_size", "offsetof(PyStringObject, ob_size)"},
        {"bytes.data", "offsetof(PyStringObject, ob_sval)"},
        {"dict.used", "offsetof(PyDictObject, ma_used)"},
        {"dict.mask", "offsetof(PyDictObject, ma_mask)"},
        {"dict.table", "offsetof(PyDictObject, ma_table)"},
        {"integer.size", "offsetof(PyIntObject, ob_ival)"},
        {"integer.digits", "offsetof(PyLongObject, ob_digit)"},  // a long ident: its ob_size is at ob_ival's place
    }};
    all.push_back(py27);

    HeaderFields py36{3, 6, "#include <Python.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, tstate_head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, modules)"},
        {"code.linetable", "offsetof(PyCodeObject, co_lnotab)"},
    }};
    add_common_py3(py36);
    add_frame_objects(py36);
    add_long_ob_size(py36);
    all.push_back(py36);

    HeaderFields py37{3, 7, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pystate.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, tstate_head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, modules)"},
        {"code.linetable", "offsetof(PyCodeObject, co_lnotab)"},
        {"runtime.tstate_current", "offsetof(_PyRuntimeState, gilstate.tstate_current)"},
    }};
    add_common_py3(py37);
    add_frame_objects(py37);
    add_runtime(py37);
    add_long_ob_size(py37);
    all.push_back(py37);

    HeaderFields py38{3, 8, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_pystate.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", py37.fields};
    all.push_back(py38);

    HeaderFields py39{3, 9, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n#include <internal/pycore_runtime.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", py37.fields};
    all.push_back(py39);

    HeaderFields py310{3, 10, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n#include <internal/pycore_runtime.h>\n#include <internal/pycore_moduleobject.h>\n#include <frameobject.h>\n#include <code.h>\n#include <longintrepr.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, tstate_head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, modules)"},
        {"code.linetable", "offsetof(PyCodeObject, co_linetable)"},
        {"runtime.tstate_current", "offsetof(_PyRuntimeState, gilstate.tstate_current)"},
        {"module.md_dict", "offsetof(PyModuleObject, md_dict)"},
    }};
    add_common_py3(py310);
    add_frame_objects(py310);
    add_runtime(py310);
    add_long_ob_size(py310);
    all.push_back(py310);

    HeaderFields py311{3, 11, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n#include <internal/pycore_runtime.h>\n#include <internal/pycore_frame.h>\n#include <internal/pycore_dict.h>\n#include <internal/pycore_moduleobject.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, threads.head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, modules)"},
        {"runtime.tstate_current", "offsetof(_PyRuntimeState, gilstate.tstate_current)"},
        {"thread.frame", "offsetof(PyThreadState, cframe)"},
        {"cframe.current_frame", "offsetof(_PyCFrame, current_frame)"},
    }};
    add_common_py3(py311);
    add_runtime(py311);
    add_long_ob_size(py311);
    add_dict_keys_311(py311);
    add_interpreter_frames(py311, "f_code", "prev_instr");
    all.push_back(py311);

    HeaderFields py312{3, 12, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n#include <internal/pycore_runtime.h>\n#include <internal/pycore_frame.h>\n#include <internal/pycore_dict.h>\n#include <internal/pycore_moduleobject.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, threads.head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, imports.modules)"},
        {"interpreter.ceval_gil", "offsetof(PyInterpreterState, ceval.gil)"},
        {"gil_state.locked", "offsetof(struct _gil_runtime_state, locked)"},
        {"gil_state.last_holder", "offsetof(struct _gil_runtime_state, last_holder)"},
        {"thread.frame", "offsetof(PyThreadState, cframe)"},
        {"cframe.current_frame", "offsetof(_PyCFrame, current_frame)"},
        {"interpreter_frame.owner", "offsetof(_PyInterpreterFrame, owner)"},
        {"integer.size", "offsetof(PyLongObject, long_value.lv_tag)"},
        {"integer.digits", "offsetof(PyLongObject, long_value.ob_digit)"},
    }};
    add_common_py3(py312);
    add_runtime(py312);
    add_dict_keys_311(py312);
    add_interpreter_frames(py312, "f_code", "prev_instr");
    all.push_back(py312);

    HeaderFields py313{3, 13, "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n#include <internal/pycore_runtime.h>\n#include <internal/pycore_frame.h>\n#include <internal/pycore_dict.h>\n#include <internal/pycore_moduleobject.h>\n", {
        {"interpreter.threads_head", "offsetof(PyInterpreterState, threads.head)"},
        {"interpreter.modules", "offsetof(PyInterpreterState, imports.modules)"},
        {"interpreter.ceval_gil", "offsetof(PyInterpreterState, ceval.gil)"},
        {"gil_state.locked", "offsetof(struct _gil_runtime_state, locked)"},
        {"gil_state.last_holder", "offsetof(struct _gil_runtime_state, last_holder)"},
        {"thread.frame", "offsetof(PyThreadState, current_frame)"},
        {"interpreter_frame.owner", "offsetof(_PyInterpreterFrame, owner)"},
        {"integer.size", "offsetof(PyLongObject, long_value.lv_tag)"},
        {"integer.digits", "offsetof(PyLongObject, long_value.ob_digit)"},
    }};
    add_common_py3(py313);
    add_runtime(py313);
    add_dict_keys_311(py313);
    add_interpreter_frames(py313, "f_executable", "instr_ptr");
    all.push_back(py313);

    // 3.14 and 3.15: compared after the target's table is joined to the row (the
    // table as these headers initialise it), so every field pyprofd reads is checked.
    constexpr std::string_view includes_314 =
        "#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <internal/pycore_interp.h>\n"
        "#include <internal/pycore_runtime.h>\n#include <internal/pycore_frame.h>\n"
        "#include <internal/pycore_interpframe.h>\n#include <internal/pycore_dict.h>\n"
        "#include <internal/pycore_moduleobject.h>\n";
    auto fields_314 = py313.fields;
    fields_314.push_back({"interpreter.code_object_generation", "offsetof(PyInterpreterState, _code_object_generation)"});
    HeaderFields py314{3, 14, includes_314, fields_314};
    all.push_back(py314);
    HeaderFields py315{3, 15, includes_314, fields_314};
    all.push_back(py315);

    return all;
}

}  // namespace

const std::vector<HeaderFields>& header_fields() {
    static const std::vector<HeaderFields> all = build();
    return all;
}

}  // namespace pyprofd::tests

namespace pyprofd::tests {

std::string probe_source(const HeaderFields& h) {
    std::string src(h.includes);
    src += "#include <stddef.h>\n#include <stdio.h>\nint main(void) {\n";
    for (const auto& [name, expr] : h.fields)
        src += "    printf(\"%s %ld\\n\", \"" + std::string(name) + "\", (long)(" + std::string(expr) + "));\n";
    src += "    return 0;\n}\n";
    return src;
}

}  // namespace pyprofd::tests
