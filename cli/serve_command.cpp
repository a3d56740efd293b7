#include "cli/serve_command.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <thread>
#include <vector>

#include "api/bearer_auth.hpp"
#include "api/http_server.hpp"
#include "api/routes.hpp"
#include "config/daemon_config.hpp"
#include "daemon/launched_program.hpp"
#include "daemon/session_manager.hpp"
#include "daemon/session_store.hpp"
#include "daemon/systemd_notify.hpp"

namespace pyprofd::cli {
namespace {

constexpr int exit_usage = 2;

// One JSON object per log line, for log collectors: time, level, message.
class JsonLineSink : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
        nlohmann::json line{{"time_ms", ms},
                            {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                  spdlog::level::to_string_view(msg.level).size())},
                            {"message", std::string(msg.payload.data(), msg.payload.size())}};
        std::cerr << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    void flush_() override { std::cerr.flush(); }
};

void set_up_logging(const config::Logging& log) {
    std::shared_ptr<spdlog::logger> logger;
    if (log.format == "json") {
        logger = std::make_shared<spdlog::logger>("pyprofd", std::make_shared<JsonLineSink>());
    } else {
        logger = std::make_shared<spdlog::logger>("pyprofd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    }
    logger->set_level(spdlog::level::from_str(log.level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

// Every session holds descriptors (a pidfd, one per target thread while it runs),
// and so does every connection: the soft limit goes up to the hard one, and the
// connections are capped below it, leaving room for the sessions and files.
std::size_t fit_descriptor_limit(std::size_t max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return max_connections;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    constexpr rlim_t for_the_rest = 64;  // state files, /proc files, sessions' first attaches
    auto room = limit.rlim_cur == RLIM_INFINITY ? max_connections
                                                : static_cast<std::size_t>(limit.rlim_cur > 2 * for_the_rest
                                                                               ? (limit.rlim_cur - for_the_rest) / 2
                                                                               : 4);
    if (room < max_connections) {
        spdlog::warn("limits.max_connections is {}, but with {} descriptors at most {} connections leave room for "
                     "the sessions: {} it is (raise the limit with LimitNOFILE= or ulimit -n)",
                     max_connections, limit.rlim_cur, room, room);
        return room;
    }
    return max_connections;
}

}  // namespace

int run_serve(const ServeOptions& serve_options) {
    const auto* options = &serve_options;
    config::DaemonConfig config;
    if (options->config_file) {
        auto loaded = config::load_config_file(*options->config_file);
        if (!loaded) {
            std::cerr << "pyprofd: " << loaded.error() << "\n";
            return exit_usage;
        }
        config = *loaded;
    }
    if (!options->listen.empty()) {
        config.listen.clear();
        for (const auto& text : options->listen) {
            auto address = config::parse_listen_address(text);
            if (!address) {
                std::cerr << "pyprofd: --listen: " << address.error() << "\n";
                return exit_usage;
            }
            config.listen.push_back(*address);
        }
    }
    if (options->state_dir) config.state_dir = std::filesystem::absolute(*options->state_dir).string();
    set_up_logging(config.log);
    if (auto exposed = api::check_exposure(config); !exposed) {
        spdlog::error("{}", exposed.error());
        return exit_usage;
    }
    auto tokens = api::BearerTokens::load(config.access.tokens);
    if (!tokens) {
        spdlog::error("{}", tokens.error());
        return exit_usage;
    }

    // A client that goes away mid-response must not end the daemon.
    ::signal(SIGPIPE, SIG_IGN);
    auto max_connections = fit_descriptor_limit(config.limits.max_connections);
    // Launched programs' orphaned children are ours to reap.
    daemon::become_child_subreaper();

    auto store = daemon::SessionStore::open(config.state_dir);
    if (!store) {
        spdlog::error("{}", store.error());
        return 1;
    }
    auto policy = daemon::AccessPolicy::from(
        config, options->config_file ? std::filesystem::absolute(*options->config_file).string() : std::string());
    if (!policy) {
        spdlog::error("{}", policy.error());
        return exit_usage;
    }
    daemon::SessionManager sessions(config, std::move(*store), std::move(*policy));
    api::Routes routes(sessions, std::move(*tokens), api::BrowserGuard(config.access.server_names));

    boost::asio::io_context io;
    api::HttpServer server(
        io, [&](const api::Request& r, const api::PeerIdentity& peer, std::string& caller) { return routes.handle(r, peer, caller); },
        api::ServerLimits{.unix_socket_group = config.unix_socket_group,
                     .max_body_bytes = config.limits.max_request_body_bytes,
                     .max_connections = max_connections},
        [&](unsigned status) { routes.count_response(status); });
    for (const auto& address : config.listen) {
        if (auto listening = server.listen(address); !listening) {
            spdlog::error("{}", listening.error());
            return 1;
        }
    }
    for (const auto& a : server.bound_addresses()) spdlog::info("listening on {}", a);
    spdlog::info("state in {}; limits: {} running sessions, {} Hz, {} s", config.state_dir,
                 config.limits.max_running_sessions, config.limits.max_rate_hz, config.limits.max_duration_s);

    daemon::notify_systemd(fmt::format("READY=1\nSTATUS=listening on {}", fmt::join(server.bound_addresses(), ", ")));
    // systemd's watchdog, if the unit sets WatchdogSec: pinged from the io threads, so a
    // daemon that stops answering stops pinging.
    boost::asio::steady_timer watchdog(io);
    std::function<void()> ping;
    if (auto interval = daemon::watchdog_interval()) {
        ping = [&, interval = *interval] {
            daemon::notify_systemd("WATCHDOG=1");
            watchdog.expires_after(interval);
            watchdog.async_wait([&](const boost::system::error_code& ec) {
                if (!ec) ping();
            });
        };
        ping();
    }

    // The io threads run until shutdown is complete: ending the sessions and saving
    // them may take a moment, and requests meanwhile still get answers.
    auto work = boost::asio::make_work_guard(io);
    std::jthread shutdown;  // joined before the session manager is destroyed
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("SIG{}: shutting down", ::sigabbrev_np(signal));
        daemon::notify_systemd("STOPPING=1");
        server.stop_accepting();
        shutdown = std::jthread([&] {
            sessions.shutdown();
            work.reset();
            io.stop();
        });
    });

    // Handlers may wait (attaching to a process, stopping a session): several threads
    // keep the others answering.
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    }
    if (shutdown.joinable()) shutdown.join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace pyprofd::cli
