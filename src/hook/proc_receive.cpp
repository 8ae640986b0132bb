#include "trunkgate/hook/proc_receive.hpp"

#include <istream>
#include <ostream>
#include <sstream>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/queue/queue.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

constexpr std::string_view for_prefix = "refs/for/";
constexpr std::string_view heads_prefix = "refs/heads/";

// True when the queue of `target` builds batches: an entry's branch is then its batch's.
bool batched(const policy& rules_policy, const std::string& target) {
    const auto* rule = rules_policy.queue_for(target);
    return rule && rule->batch_size > 1;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string without_newline(std::string line) {
    if (!line.empty() && line.back() == '\n')
        line.pop_back();
    return line;
}

// The pkt-lines of a section, up to the flush that ends it.
std::vector<std::string> read_section(std::istream& in) {
    std::vector<std::string> lines;
    while (auto line = read_pkt_line(in))
        lines.push_back(std::move(*line));
    return lines;
}

bool is_hex_id(std::string_view text) {
    if (text.size() != 40 && text.size() != 64)
        return false;
    for (const char c : text)
        if (hex_value(c) < 0)
            return false;
    return true;
}

bool asks_priority(const std::vector<std::string>& push_options) {
    for (const auto& option : push_options)
        if (option == "trunkgate.priority=high")
            return true;
    return false;
}

std::string branch_name(const std::string& target) {
    return target.substr(heads_prefix.size());
}

std::string queued_branches(const policy& rules_policy) {
    std::string names;
    for (const auto& rule : rules_policy.queues)
        if (rule.target.rfind(heads_prefix, 0) == 0)
            names += (names.empty() ? "" : ", ") + branch_name(rule.target);
    return names.empty() ? "none" : names;
}

queue_push_answer refused(const std::string& ref, std::string reason) {
    return {{ref, false, std::move(reason)}, {}};
}

} // namespace

std::optional<std::string> read_pkt_line(std::istream& in) {
    char header[4];
    if (!in.read(header, sizeof header))
        throw input_error("the input ended where a pkt-line length was expected");
    std::size_t length = 0;
    for (const char c : header) {
        const int digit = hex_value(c);
        if (digit < 0)
            throw input_error("bad pkt-line length '" + printable(std::string_view(header, 4)) +
                              "': not four hex digits");
        length = length * 16 + static_cast<std::size_t>(digit);
    }
    if (length == 0)
        return std::nullopt;
    if (length < 4 || length > max_pkt_line)
        throw input_error("bad pkt-line length " + std::to_string(length) + " (4 to " +
                          std::to_string(max_pkt_line) + ")");
    std::string payload(length - 4, '\0');
    if (!in.read(payload.data(), static_cast<std::streamsize>(payload.size())))
        throw input_error("the input ended inside a pkt-line of " + std::to_string(length) +
                          " bytes");
    return payload;
}

void write_pkt_line(std::ostream& out, std::string_view payload) {
    const auto length = payload.size() + 4;
    if (length > max_pkt_line)
        throw input_error("a pkt-line of " + std::to_string(length) +
                          " bytes is too long (at most " + std::to_string(max_pkt_line) + ")");
    static constexpr char digits[] = "0123456789abcdef";
    const char header[4] = {digits[(length >> 12) & 0xf], digits[(length >> 8) & 0xf],
                            digits[(length >> 4) & 0xf], digits[length & 0xf]};
    out.write(header, sizeof header);
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
}

void write_flush(std::ostream& out) {
    out.write("0000", 4);
}

proc_receive_offer read_proc_receive_offer(std::istream& in) {
    proc_receive_offer offer;
    for (auto& raw : read_section(in)) {
        const auto line = without_newline(std::move(raw));
        const auto nul = line.find('\0');
        const auto head = line.substr(0, nul);
        if (head.rfind("version=", 0) != 0)
            continue;
        const auto number = head.substr(8);
        if (number != "1")
            throw input_error("proc-receive version '" + printable(number) +
                              "' is not supported (only 1)");
        offer.version = 1;
        if (nul == std::string::npos)
            continue;
        // An unordered set: git 2.39 sends "atomic push-options", its docs the reverse.
        std::istringstream capabilities(line.substr(nul + 1));
        for (std::string capability; capabilities >> capability;) {
            offer.atomic = offer.atomic || capability == "atomic";
            offer.push_options = offer.push_options || capability == "push-options";
        }
    }
    if (offer.version != 1)
        throw input_error("git sent no proc-receive version");
    return offer;
}

void write_proc_receive_version(std::ostream& out, const proc_receive_offer& offer) {
    write_pkt_line(out, offer.push_options ? std::string_view("version=1\0push-options\n", 23)
                                           : std::string_view("version=1\n"));
    write_flush(out);
}

std::vector<proc_receive_command> read_proc_receive_commands(std::istream& in) {
    std::vector<proc_receive_command> commands;
    for (const auto& line : read_section(in)) {
        const auto first = line.find(' ');
        const auto second = first == std::string::npos ? first : line.find(' ', first + 1);
        if (second == std::string::npos || second + 1 == line.size())
            throw input_error("a proc-receive command is not '<old> <new> <ref>': '" +
                              printable(line) + "'");
        proc_receive_command command{line.substr(0, first),
                                     line.substr(first + 1, second - first - 1),
                                     line.substr(second + 1)};
        if (!is_hex_id(command.old_id) || !is_hex_id(command.new_id))
            throw input_error("a proc-receive command has a bad object id: '" + printable(line) +
                              "'");
        commands.push_back(std::move(command));
    }
    return commands;
}

std::vector<std::string> read_proc_receive_push_options(std::istream& in) {
    return read_section(in);
}

proc_receive_request read_proc_receive_request(std::istream& in, std::ostream& out) {
    proc_receive_request request;
    request.offer = read_proc_receive_offer(in);
    write_proc_receive_version(out, request.offer);
    out.flush();
    request.commands = read_proc_receive_commands(in);
    if (request.offer.push_options)
        request.push_options = read_proc_receive_push_options(in);
    return request;
}

void write_proc_receive_report(std::ostream& out, const std::vector<proc_receive_result>& results) {
    for (const auto& result : results) {
        auto line = (result.ok ? "ok " : "ng ") + result.ref;
        if (!result.ok && !result.reason.empty())
            line += " " + replace_all(replace_all(result.reason, "\r", " "), "\n", " ");
        write_pkt_line(out, line + "\n");
    }
    write_flush(out);
    out.flush();
}

std::optional<queue_destination> queue_destination_of(const policy& rules_policy,
                                                      std::string_view ref) {
    std::string topic;
    const auto* queue = rules_policy.queue_for_submission(ref, &topic);
    if (!queue)
        return std::nullopt;
    return queue_destination{queue->target, topic};
}

queue_push_answer enqueue_pushed(git_repository* repo, const policy& rules_policy,
                                 queue_store& store, const proc_receive_command& command,
                                 const proc_receive_offer& offer,
                                 const std::vector<std::string>& push_options,
                                 const std::string& pusher, std::int64_t now) {
    const auto& ref = command.ref;
    if (offer.atomic)
        return refused(ref, "atomic pushes cannot enter the merge queue; push refs/for/... on "
                            "its own");
    if (ref.rfind(for_prefix, 0) != 0 || ref.size() == for_prefix.size())
        return refused(ref, "push to refs/for/<branch> or refs/for/<branch>/<topic> to enter "
                            "the merge queue of <branch>");
    if (is_zero_id(command.new_id))
        return refused(ref, "deleting " + ref +
                                " means nothing; take a change out of the queue with `trunkgate "
                                "queue cancel ID`");
    const auto destination = queue_destination_of(rules_policy, ref);
    if (!destination)
        return refused(ref, "refs/heads/" + ref.substr(for_prefix.size()) +
                                " has no merge queue (queued branches: " +
                                queued_branches(rules_policy) + ")");
    change_request request;
    request.target = destination->target;
    request.commit = command.new_id;
    request.topic = destination->topic;
    request.pusher = pusher;
    request.priority = asks_priority(push_options);
    enqueued made;
    try {
        made = enqueue_change(repo, rules_policy, store, request, now);
    } catch (const input_error& e) {
        return refused(ref, e.what());
    }
    queue_push_answer answer{{ref, true, ""}, {}};
    if (made.priority_denied)
        answer.lines.push_back("trunkgate: " + printable(pusher) +
                               " may not ask for priority ([[queue]] priority); queued at the end");
    answer.lines.push_back("trunkgate: queued for " + branch_name(request.target) +
                           " at position " + std::to_string(made.position) + " (id " +
                           made.entry.id + "); CI runs on " +
                           speculative_ref(request.target, made.entry.id) +
                           (batched(rules_policy, request.target)
                                ? " (or, in a batch, on the branch of its batch's last entry)"
                                : "") +
                           (made.replaced.empty() ? "" : "; it replaces " + made.replaced));
    return answer;
}

} // namespace trunkgate
