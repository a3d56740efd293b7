#include "daemon/log_setup.hpp"

#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace pyprofd::daemon {
namespace {

// One JSON object per log line: time, level, message.
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

}  // namespace

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

}  // namespace pyprofd::daemon
