#include "cli/serve_command.hpp"

#include <expected>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <spdlog/spdlog.h>
#include <string>

#include "api/bearer_auth.hpp"
#include "api/http_service.hpp"
#include "api/routes.hpp"
#include "cli/command_line.hpp"
#include "config/daemon_config.hpp"
#include "daemon/descriptor_limit.hpp"
#include "daemon/log_setup.hpp"
#include "daemon/orderly_shutdown.hpp"
#include "daemon/process_setup.hpp"
#include "daemon/session_manager.hpp"
#include "daemon/session_store.hpp"
#include "daemon/systemd_notify.hpp"
#include "sampler/descriptor_budget.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sched_in_watch.hpp"
#include "sampler/thread_activity.hpp"

namespace pyprofd::cli {
namespace {

// The threads that answer requests.
constexpr int io_threads = 4;

// The configuration file's settings (or the defaults), then the flags'. An error
// here is a usage error.
std::expected<config::DaemonConfig, std::string> serve_config(const ServeOptions& options) {
    config::DaemonConfig config;
    if (options.config_file) {
        auto loaded = config::load_config_file(*options.config_file);
        if (!loaded) return std::unexpected(loaded.error());
        config = *loaded;
    }
    if (!options.listen.empty()) {
        config.listen.clear();
        for (const auto& text : options.listen) {
            auto address = config::parse_listen_address(text);
            if (!address) return std::unexpected("--listen: " + address.error());
            config.listen.push_back(*address);
        }
    }
    if (options.state_dir) config.state_dir = std::filesystem::absolute(*options.state_dir).string();
    return config;
}

// Listens on every address; false after logging why one cannot be.
bool listen_on_all(api::HttpService& service, const config::DaemonConfig& config) {
    for (const auto& address : config.listen) {
        if (auto listening = service.listen(address); !listening) {
            spdlog::error("{}", listening.error());
            return false;
        }
    }
    for (const auto& a : service.bound_addresses()) spdlog::info("listening on {}", a);
    spdlog::info("state in {}; limits: {} running sessions, {} Hz, {} s", config.state_dir,
                 config.limits.max_running_sessions, config.limits.max_rate_hz, config.limits.max_duration_s);
    return true;
}

// Tells systemd the daemon serves, and keeps its watchdog fed from the io threads:
// a daemon that stops answering stops feeding it.
void tell_systemd_ready(api::HttpService& service) {
    daemon::notify_systemd(fmt::format("READY=1\nSTATUS=listening on {}", fmt::join(service.bound_addresses(), ", ")));
    if (auto interval = daemon::watchdog_interval())
        service.every(*interval, [] { daemon::notify_systemd("WATCHDOG=1"); });
}

}  // namespace

int run_serve(const ServeOptions& options) {
    // First, before any thread starts: SIGTERM and SIGINT become the orderly shutdown.
    daemon::OrderlyShutdown shutdown;
    auto config = serve_config(options);
    if (!config) {
        std::cerr << "pyprofd: " << config.error() << "\n";
        return exit_usage;
    }
    daemon::set_up_logging(config->log);
    if (auto exposed = api::check_exposure(*config); !exposed) {
        spdlog::error("{}", exposed.error());
        return exit_usage;
    }
    auto tokens = api::BearerTokens::load(config->access.tokens);
    if (!tokens) {
        spdlog::error("{}", tokens.error());
        return exit_usage;
    }
    daemon::set_up_daemon_process();
    auto descriptors = daemon::fit_descriptor_limit(config->limits.max_connections);
    sampler::thread_file_budget().set_cap(descriptors.kept_thread_files);
    sampler::process_descriptor_budget().set_cap(descriptors.process_files);
    if (sampler::sched_in_watches_work())
        spdlog::info("parked threads: watched with perf events once parked for {} samples",
                     sampler::SampleOptions{}.watch_parked_after);
    else
        spdlog::info("parked threads: no sched-in watches here (perf events refused, no wait channels or "
                     "schedstat in /proc, or the host too busy to try them for 3 s), so their run counts are "
                     "read from /proc each sample (under systemd, the unit grants CAP_PERFMON)");
    if (sampler::wait_channels_name_sleepers())
        spdlog::info("thread states: read from their wait channels (/proc/.../wchan)");
    else
        spdlog::info("thread states: this kernel's wait channels name no functions (no symbols, or the host too "
                     "busy to tell for 3 s), so the state letters of the threads' stat lines are read");
    auto store = daemon::SessionStore::open(config->state_dir);
    if (!store) {
        spdlog::error("{}", store.error());
        return 1;
    }
    auto policy = daemon::AccessPolicy::from(
        *config, options.config_file ? std::filesystem::absolute(*options.config_file).string() : std::string());
    if (!policy) {
        spdlog::error("{}", policy.error());
        return exit_usage;
    }
    daemon::SessionManager sessions(*config, std::move(*store), std::move(*policy));
    api::Routes routes(sessions, std::move(*tokens), api::BrowserGuard(config->access.server_names));
    api::HttpService service(
        [&](const api::Request& r, const api::PeerIdentity& peer, api::RequestNotes& notes) {
            return routes.handle(r, peer, notes);
        },
        api::ServerLimits{.unix_socket_group = config->unix_socket_group,
                          .max_body_bytes = config->limits.max_request_body_bytes,
                          .max_connections = descriptors.connections},
        [&](const api::AnsweredRequest& answered) { routes.count_response(answered); });
    if (!listen_on_all(service, *config)) return 1;
    tell_systemd_ready(service);
    shutdown.on_signal({.stop_accepting = [&] { service.stop_accepting(); },
                        .end_sessions = [&] { sessions.shutdown(); },
                        .finished = [&] { service.finish(); }});
    service.run(io_threads);
    shutdown.join();  // before the sessions and the server go
    spdlog::info("stopped");
    return 0;
}

}  // namespace pyprofd::cli
