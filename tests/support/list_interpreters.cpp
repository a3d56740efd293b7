// Prints which interpreters the tests will run against and which are skipped;
// `make test` runs it first so the list is in every test log.
#include "tests/support/interpreters.hpp"

int main() {
    pyprofd::tests::interpreters();
    return 0;
}
