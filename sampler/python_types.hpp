#pragma once
// Addresses of the built-in type objects in the target: a remote object is only
// trusted as a code object, a str, ... when its ob_type is the right one.
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

struct PythonTypes {
    RemoteAddress code = 0;
    RemoteAddress frame = 0;
    RemoteAddress str = 0;    // PyUnicode_Type (3.x) or PyString_Type (2.7)
    RemoteAddress bytes = 0;  // PyBytes_Type (3.x) or PyString_Type (2.7)
    RemoteAddress dict = 0;
    RemoteAddress integer = 0;  // PyLong_Type (3.x) or PyInt_Type (2.7)
    RemoteAddress long_integer = 0;  // PyLong_Type
    RemoteAddress module = 0;
};

}  // namespace pyprofd::sampler
