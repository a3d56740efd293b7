#include "cli/progress_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

namespace pyprofd::cli {
namespace {

constexpr auto plain_line_every = std::chrono::seconds(5);

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

int terminal_width(std::FILE* out) {
    winsize ws{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::FILE* out, std::optional<std::chrono::nanoseconds> total)
    : out_(out), terminal_(::isatty(::fileno(out)) == 1), total_(total) {}

std::string ProgressDisplay::bar_text(std::chrono::nanoseconds elapsed, std::optional<std::chrono::nanoseconds> total,
                                      std::uint64_t samples, std::uint64_t errors, int width) {
    auto counts = fmt::format(" {} samples, {} errors", samples, errors);
    if (!total) return fmt::format("{:.1f}s{}  (Ctrl-C to stop)", seconds(elapsed), counts);
    auto times = fmt::format("{:.1f}/{:.1f}s ", seconds(elapsed), seconds(*total));
    int bar = std::max(10, width - 1 - static_cast<int>(times.size() + counts.size()) - 2);
    double done = std::clamp(seconds(elapsed) / std::max(seconds(*total), 1e-9), 0.0, 1.0);
    int filled = static_cast<int>(done * bar);
    return fmt::format("{}[{}{}]{}", times, std::string(static_cast<std::size_t>(filled), '#'),
                       std::string(static_cast<std::size_t>(bar - filled), ' '), counts);
}

void ProgressDisplay::update(std::chrono::nanoseconds elapsed, std::uint64_t samples, std::uint64_t errors) {
    std::lock_guard lock(mutex_);
    if (terminal_) {
        auto text = bar_text(elapsed, total_, samples, errors, terminal_width(out_));
        std::fprintf(out_, "\r%s\033[K", text.c_str());
        bar_shown_ = true;
    } else if (elapsed - last_plain_line_ >= plain_line_every) {
        last_plain_line_ = elapsed;
        std::fprintf(out_, "%s\n", bar_text(elapsed, total_, samples, errors, 60).c_str());
    }
    std::fflush(out_);
}

void ProgressDisplay::message(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (bar_shown_) std::fputs("\r\033[K", out_);
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
}

void ProgressDisplay::finish() {
    std::lock_guard lock(mutex_);
    if (bar_shown_) std::fputs("\r\033[K", out_);
    bar_shown_ = false;
    std::fflush(out_);
}

}  // namespace pyprofd::cli
