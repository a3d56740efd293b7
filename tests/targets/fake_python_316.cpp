// Not Python: a process whose executable exports the symbols pyprofd looks for and
// a Py_Version of 3.16.0, a version pyprofd has no layout for. Used to test that
// error. It sleeps until killed.
#include <unistd.h>

extern "C" {
extern const unsigned long Py_Version;
const unsigned long Py_Version = 0x031000f0;
char PyCode_Type[400] = {1};
void Py_Initialize(void) {}
}

int main() {
    for (;;) ::pause();
}
