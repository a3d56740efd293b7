// Prints which interpreters the tests will run against and which are skipped;
// `make test` runs it first so the list is in every test log, and so that a CI
// machine without every expected interpreter stops there, saying which.
#include <exception>
#include <iostream>

#include "tests/support/interpreters.hpp"

int main() {
    try {
        pyprofd::tests::interpreters();
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
