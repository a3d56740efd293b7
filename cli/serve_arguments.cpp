#include "cli/serve_arguments.hpp"

#include "cli/option_values.hpp"

namespace pyprofd::cli {

CLI::App& add_serve_command(CLI::App& command_line, ServeOptions& options) {
    auto& serve = *command_line.add_subcommand(
        "serve", "run the daemon: the HTTP/JSON API on ADDR (host:port or unix:/path; default 127.0.0.1:8700)");
    add_value_option(
        serve, "--config", "FILE",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            options.config_file = text;
            return {};
        },
        "the YAML configuration (systemd/pyprofd.yaml shows every setting); default: the built-in defaults");
    serve.add_option("--listen", options.listen, "where to listen: host:port or unix:/path; again for more addresses")
        ->type_name("ADDR")
        ->allow_extra_args(false);  // one address each time: "--listen A --listen B"
    add_value_option(
        serve, "--state-dir", "DIR",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            options.state_dir = text;
            return {};
        },
        "where sessions are saved (default /var/lib/pyprofd)");
    serve.footer("On SIGTERM or SIGINT it stops accepting, ends the running sessions as stopped, saves them, and exits 0.");
    return serve;
}

}  // namespace pyprofd::cli
