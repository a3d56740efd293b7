#pragma once
// A process's stacks now, as text (py-spy's familiar dump form) and as JSON.
// The CLI prints these; the HTTP API serves the JSON form.
#include <nlohmann/json.hpp>
#include <string>

#include "sampler/python_process.hpp"

namespace pyprofd::daemon {

std::string format_dump_text(const sampler::PythonProcess& process, const sampler::StackSample& sample);
nlohmann::json format_dump_json(const sampler::PythonProcess& process, const sampler::StackSample& sample);

}  // namespace pyprofd::daemon
