#include "api/pprof_pull.hpp"

#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <fmt/format.h>
#include <memory>
#include <spdlog/spdlog.h>

#include "api/error_response.hpp"
#include "api/problem.hpp"
#include "api/response_body.hpp"
#include "daemon/session_output.hpp"

namespace pyprofd::api {
namespace {

using Clock = std::chrono::steady_clock;

// Go's default: a pull without seconds samples 30 of them.
constexpr long long default_seconds = 30;
// How often the wait looks whether the session has ended (it may end early: the
// target exited), and how long past its N seconds it may take to end before it is
// stopped (a target slow to read at the end).
constexpr auto poll_interval = std::chrono::milliseconds(100);
constexpr auto end_grace = std::chrono::seconds(10);

daemon::Error bad_query(std::string name, std::string message) {
    return {daemon::Error::Kind::invalid, std::move(message), std::move(name)};
}

std::optional<double> decimal_number(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

// The query as a session's spec. Unknown names are refused, as the session list
// does: a misspelt seconds would otherwise sample 30 s without a word.
daemon::Result<daemon::SessionSpec> pull_spec(const Target& target, const config::Limits& limits) {
    // rate_hz stays a session's default, 100: what POST /sessions takes without one,
    // and the rate of Go's own CPU profile, which the pulling tools expect.
    daemon::SessionSpec spec;
    spec.name = "pprof pull";
    spec.duration_s = default_seconds;
    for (const auto& [name, value] : target.query) {
        if (name == "pid") {
            auto n = whole_number(value);
            if (!n || *n < 1 || *n > std::numeric_limits<pid_t>::max())
                return std::unexpected(bad_query(name, fmt::format("pid must be a process id (1 or more), not '{}'", value)));
            spec.pid = static_cast<pid_t>(*n);
        } else if (name == "seconds") {
            auto n = whole_number(value);
            if (!n || *n < 1 || static_cast<double>(*n) > limits.max_duration_s)
                return std::unexpected(bad_query(
                    name, fmt::format("seconds must be a whole number from 1 to {} (limits.max_duration_s), not '{}'",
                                      limits.max_duration_s, value)));
            spec.duration_s = static_cast<double>(*n);
        } else if (name == "rate_hz") {
            auto rate = decimal_number(value);
            if (!rate)
                return std::unexpected(bad_query(name, fmt::format("rate_hz must be a number of samples per second, "
                                                                   "not '{}'",
                                                                   value)));
            spec.rate_hz = *rate;  // its range is the session manager's to check, as for POST /sessions
        } else {
            return std::unexpected(bad_query(
                name, fmt::format("unknown query parameter '{}'; the pull takes pid, seconds and rate_hz", name)));
        }
    }
    if (!spec.pid)
        return std::unexpected(bad_query("pid", "pid is required: the process to profile "
                                                "(/debug/pprof/profile?pid=PID&seconds=N)"));
    return spec;
}

// The pprof file of a session as Go's net/http/pprof serves its own profile.
Response profile_response(daemon::SessionManager& sessions, const std::string& id, const daemon::Caller& caller) {
    auto profile = sessions.profile(id, caller);
    if (!profile) return error_response(profile.error());
    const auto& [info, samples] = *profile;
    if (info.state == daemon::SessionState::failed)
        return problem(http::status::internal_server_error, "Sampling failed",
                       fmt::format("session {} failed: {}", id, info.failure));
    auto body = daemon::session_profile_as(render::OutputFormat::pprof, info, *samples,
                                           daemon::session_output_details(info));
    if (!body) return error_response(body.error());
    auto response = with_body(http::status::ok, "application/octet-stream", std::move(*body));
    response.set(http::field::content_disposition, "attachment; filename=\"profile\"");
    return response;
}

// The wait for one pulled session, on the connection's strand: every poll_interval
// it looks whether the session has ended, and answers its profile once it has.
class PullWait : public std::enable_shared_from_this<PullWait> {
public:
    PullWait(daemon::SessionManager& sessions, daemon::Caller caller, std::string id, double seconds)
        : sessions_(sessions), caller_(std::move(caller)), id_(std::move(id)),
          deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
                    end_grace) {}

    void start(boost::asio::any_io_executor executor, DeferredResponse::Respond respond) {
        respond_ = std::move(respond);
        timer_.emplace(executor);
        wait();
    }

    // The client went away: the session is stopped (its results stay, as a stopped session's).
    void cancel() {
        respond_ = nullptr;
        if (timer_) timer_->cancel();
        spdlog::info("session {}: its pull's client went away; stopping it", id_);
        if (auto stopped = sessions_.stop(id_, caller_); !stopped && stopped.error().kind != daemon::Error::Kind::conflict)
            spdlog::warn("session {}: could not stop it: {}", id_, stopped.error().message);
    }

private:
    void wait() {
        timer_->expires_after(poll_interval);
        timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec && self->respond_) self->poll();
        });
    }

    void poll() {
        auto info = sessions_.get(id_, caller_);
        if (info && !daemon::is_finished(info->state)) {
            if (Clock::now() < deadline_) return wait();
            spdlog::warn("session {}: still running {} s past its duration; stopping it for its pull", id_,
                         end_grace.count());
            (void)sessions_.stop(id_, caller_);  // how it ended is read with its profile
        }
        auto respond = std::move(respond_);
        respond_ = nullptr;  // it holds the connection: let go of it once answered
        respond(info ? profile_response(sessions_, id_, caller_) : error_response(info.error()));
    }

    daemon::SessionManager& sessions_;
    const daemon::Caller caller_;
    const std::string id_;
    const Clock::time_point deadline_;
    std::optional<boost::asio::steady_timer> timer_;
    DeferredResponse::Respond respond_;
};

}  // namespace

Response pull_pprof_profile(const Call& call) {
    auto spec = pull_spec(call.target, call.sessions.config().limits);
    if (!spec) return error_response(spec.error(), RequestPart::query);
    const double seconds = *spec->duration_s;
    auto started = call.sessions.start(std::move(*spec), call.caller);
    if (!started) return error_response(started.error(), RequestPart::query);
    auto wait = std::make_shared<PullWait>(call.sessions, call.caller, started->id, seconds);
    call.later = DeferredResponse{
        .start = [wait](boost::asio::any_io_executor executor,
                        DeferredResponse::Respond respond) { wait->start(std::move(executor), std::move(respond)); },
        .cancel = [wait] { wait->cancel(); },
    };
    return Response{};  // not sent: the profile comes from the wait
}

}  // namespace pyprofd::api
