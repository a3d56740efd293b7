#pragma once
// The text of a frame or thread label, made safe for every format. Names come from
// the profiled process (or from another tool's folded input), so they may hold
// anything: a newline or ';' would split one sample into forged lines and frames of
// folded stacks, and characters XML cannot carry would break the flame graph. What
// is unsafe is replaced by something visible, never dropped:
//   - C0 control characters and DEL by their Control Pictures (a newline shows as
//     U+240A "␊"), so a name still reads as what it was;
//   - ';', the folded format's frame separator, by U+FF1B "；";
//   - invalid UTF-8, C1 controls, the line and paragraph separators (U+2028,
//     U+2029) and what XML forbids (U+FFFE, U+FFFF) by U+FFFD.
// Safe text stays as it is, so the replacement is idempotent: a label written,
// read back and written again is the same.
#include <string>
#include <string_view>

namespace pyprofd::render {

void append_safe_label_text(std::string& out, std::string_view text);
std::string safe_label_text(std::string_view text);
bool is_safe_label_text(std::string_view text);

}  // namespace pyprofd::render
