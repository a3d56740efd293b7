#include "sampler/interpreter_symbols.hpp"

namespace pyprofd::sampler {

const SymbolSelection& interpreter_symbols() {
    static const SymbolSelection selection{
        .names =
            {
                // python_binary: whether a file is an interpreter at all.
                "PyCode_Type", "Py_Initialize", "Py_InitializeEx",
                // python_process: where the interpreter's state is (3.7+, then older).
                "_PyRuntime", "interp_head", "_PyThreadState_Current",
                // python_process: the type objects a sample checks against.
                "PyFrame_Type", "PyUnicode_Type", "PyBytes_Type", "PyString_Type", "PyDict_Type",
                "PyLong_Type", "PyInt_Type", "PyModule_Type",
                // version_detection: the version (3.11+), and Py_GetVersion's buffer.
                "Py_Version", "version",
            },
        // version_detection: the buffer as a static, named "version.0" or similar.
        .prefixes = {"version."},
    };
    return selection;
}

}  // namespace pyprofd::sampler
