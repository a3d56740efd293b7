#pragma once
// Every operation of openapi.yaml and the handler that answers it: one route each
// (tests/api/route_table_test.cpp holds the two to each other).
#include <span>

#include "api/route_table.hpp"

namespace pyprofd::api {

std::span<const Route> operations();

}  // namespace pyprofd::api
