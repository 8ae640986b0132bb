#pragma once
// A real CI behind webhooks for the end-to-end tests (pipeline_test.cpp, queue_pipeline_test.cpp):
// Debian's adnanh/webhook on a free loopback port runs a test's CI script for every push event
// signed with the test's secret, passing the event's `ref` and `after`.
//
// Header-only, as gates_support.hpp: the test-support library lists its sources by name.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/gates_support.hpp"
#include "support/http_receiver.hpp"
#include "support/sandbox.hpp"

namespace trunkgate::testing {

/// `text` with every `placeholder` replaced by `value`.
inline std::string substitute(std::string text, const std::string& placeholder,
                              const std::string& value) {
    for (auto at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size()))
        text.replace(at, placeholder.size(), value);
    return text;
}

/// adnanh/webhook with one hook, "ci", that runs `script` (with @CI@, its own directory,
/// @SERVER@ and @TRUNKGATE@ filled in) as `ci.sh REF SHA` for payloads signed with `secret`.
/// Killed, with every CI run it started, when it goes out of scope.
class ci_receiver {
  public:
    ci_receiver(const std::string& server, const std::string& script, const std::string& secret) {
        using json = nlohmann::json;
        auto text = substitute(script, "@CI@", dir_.path());
        text = substitute(text, "@SERVER@", server);
        text = substitute(text, "@TRUNKGATE@", bin_path("trunkgate"));
        write_file(dir_ / "ci.sh", text);
        std::filesystem::permissions(dir_ / "ci.sh", std::filesystem::perms::owner_all);
        const auto payload = [](const std::string& name) {
            return json{{"source", "payload"}, {"name", name}};
        };
        const json hooks = json::array(
            {{{"id", "ci"},
              {"execute-command", dir_ / "ci.sh"},
              {"command-working-directory", dir_.path()},
              {"pass-arguments-to-command", {payload("ref"), payload("after")}},
              {"trigger-rule-mismatch-http-response-code", 403},
              {"trigger-rule",
               {{"match",
                 {{"type", "payload-hmac-sha256"},
                  {"secret", secret},
                  {"parameter", {{"source", "header"}, {"name", "X-Hub-Signature-256"}}}}}}}}});
        write_file(dir_ / "hooks.json", hooks.dump(2));
        // Another program may take the free port before webhook binds it: try a few.
        for (int attempt = 0; attempt < 3; ++attempt) {
            port_ = unused_port();
            webhook_ = std::make_unique<gates::process_group>(
                std::vector<std::string>{"webhook", "-hooks", dir_ / "hooks.json", "-ip",
                                         "127.0.0.1", "-port", std::to_string(port_), "-verbose"},
                dir_.path(), std::map<std::string, std::string>{}, dir_ / "webhook.log");
            if (wait_until(
                    [&] {
                        return !webhook_->running() ||
                               wait_for_port(port_, std::chrono::milliseconds(0));
                    },
                    std::chrono::seconds(5)) &&
                webhook_->running())
                return;
            webhook_.reset();
        }
        throw std::runtime_error("webhook did not start (Debian package webhook; scripts/test "
                                 "installs it): " +
                                 log());
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/ci"; }
    std::string log() const { return read_file(dir_ / "webhook.log"); }
    std::string run_log(const std::string& sha) const {
        return read_file(dir_ / ("logs/" + sha + ".log"));
    }
    /// The CI script's own directory (@CI@), where a test can leave files the script reads.
    const temp_dir& dir() const { return dir_; }
    /// CI runs started from now on wait after reporting `pending`, until release() (for scripts
    /// that look at @CI@/hold, as pipeline_test.cpp's does).
    void hold() const { write_file(dir_ / "hold", ""); }
    void release() const { std::filesystem::remove(dir_ / "hold"); }

  private:
    temp_dir dir_;
    int port_ = 0;
    std::unique_ptr<gates::process_group> webhook_; // destroyed (killed) before dir_
};

} // namespace trunkgate::testing
