#include "trunkgate/hook/hook_input.hpp"

#include <iostream>
#include <iterator>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/version.hpp"

namespace trunkgate {

namespace {

bool answered_version(std::string_view program, const std::vector<std::string>& args,
                      std::ostream& out) {
    if (args.size() != 1 || args[0] != "--version")
        return false;
    out << program << " " << trunkgate_version() << "\n";
    return true;
}

} // namespace

hook_input read_hook_input(std::string_view program, const std::vector<std::string>& args,
                           std::istream& in, std::ostream& out, std::ostream& err) {
    hook_input read;
    if (answered_version(program, args, out)) {
        read.exit_now = exit_ok;
        return read;
    }
    try {
        read.chain = parse_hook_arguments(args);
    } catch (const input_error&) {
        err << "usage: " << program << " [--chain HOOK] [--chain-repository] < update lines\n";
        read.exit_now = exit_usage;
        return read;
    }
    read.update_lines.assign(std::istreambuf_iterator<char>(in), {});
    return read;
}

std::optional<int> read_conversing_hook_arguments(std::string_view program,
                                                  const std::vector<std::string>& args,
                                                  std::ostream& out, std::ostream& err) {
    if (answered_version(program, args, out))
        return exit_ok;
    if (args.empty())
        return std::nullopt;
    err << "usage: " << program << " (git runs it; it converses with git on stdin and stdout)\n";
    return exit_usage;
}

} // namespace trunkgate
