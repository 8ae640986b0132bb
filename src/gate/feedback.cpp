#include "trunkgate/gate/feedback.hpp"

#include <nlohmann/json.hpp>

#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

std::string header(const verdict& result) {
    const auto blocks = result.count(level::block);
    const auto warnings = result.count(level::warn);
    std::string line = "trunkgate: ";
    if (!result.bypass_reason.empty())
        line += "BYPASS by " + printable(result.bypassed_by) + " (\"" +
                printable(result.bypass_reason) + "\"): push accepted despite " +
                count_noun(result.demoted_by_bypass(), "problem", "problems");
    else if (result.evaluate_mode && result.demoted > 0)
        line += "evaluate mode, push accepted; enforcing would reject it: " +
                count_noun(result.demoted, "problem", "problems");
    else if (blocks > 0)
        line += "push rejected: " + count_noun(blocks, "problem", "problems") +
                (warnings ? ", " + count_noun(warnings, "warning", "warnings") : "");
    else
        line += "push accepted with " + count_noun(warnings, "warning", "warnings");
    if (!result.policy_name.empty())
        line += " (policy " + printable(result.policy_name) + ")";
    return line + "\n";
}

std::string finding_lines(const finding& item, bool bypassed) {
    std::string line = "  ";
    if (!item.ref.empty())
        line += printable(item.ref) + "  ";
    line += "[" + item.rule + "] ";
    if (item.severity == level::warn)
        line += !item.would_block ? "warning: " : bypassed ? "bypassed: " : "would block: ";
    line += printable(item.message) + "\n";
    if (!item.hint.empty())
        line += "      hint: " + printable(item.hint) + "\n";
    return line;
}

} // namespace

std::string render_text(const verdict& result) {
    if (result.found.empty() && result.bypass_reason.empty())
        return "";
    std::string text = header(result);
    // One block per ref: findings of the same ref together, refs in push order.
    std::vector<bool> shown(result.found.size(), false);
    for (std::size_t i = 0; i < result.found.size(); ++i) {
        if (shown[i])
            continue;
        for (std::size_t k = i; k < result.found.size(); ++k) {
            if (shown[k] || result.found[k].ref != result.found[i].ref)
                continue;
            shown[k] = true;
            text += finding_lines(result.found[k], !result.bypass_reason.empty());
        }
    }
    if (result.rejected() && !result.contact.empty())
        text += "  questions: " + printable(result.contact) + "\n";
    return text;
}

std::string render_json(const verdict& result) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& item : result.found) {
        list.push_back({
            {"rule", item.rule},
            {"level", std::string(to_string(item.severity))},
            {"ref", item.ref},
            {"commit", item.commit.empty() ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(item.commit)},
            {"value",
             item.value ? nlohmann::ordered_json(*item.value) : nlohmann::ordered_json(nullptr)},
            {"limit",
             item.limit ? nlohmann::ordered_json(*item.limit) : nlohmann::ordered_json(nullptr)},
            {"message", item.message},
            {"hint", item.hint},
            {"would_block", item.would_block},
        });
    }
    const nlohmann::ordered_json document{{"decision", result.rejected() ? "reject" : "accept"},
                                          {"mode", result.evaluate_mode ? "evaluate" : "enforce"},
                                          {"findings", std::move(list)}};
    // Ref names and messages may hold bytes that are not UTF-8; replace them, never throw.
    return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string render_internal_error(std::string_view what, std::string_view contact) {
    std::string line = "trunkgate: internal error, push rejected to be safe: " + printable(what);
    if (!contact.empty())
        line += " (ask " + printable(contact) + ")";
    return line + "\n";
}

} // namespace trunkgate
