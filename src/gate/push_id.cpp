#include "trunkgate/gate/push_id.hpp"

#include <openssl/evp.h>

#include <unistd.h>
#include <vector>

#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

// The arguments a process was started with (/proc/PID/cmdline: NUL-separated).
std::vector<std::string> command_line(const std::string& proc_root, long pid) {
    std::vector<std::string> argv;
    const auto text = read_file(proc_root + "/" + std::to_string(pid) + "/cmdline");
    if (!text)
        return argv;
    std::string::size_type start = 0;
    while (start < text->size()) {
        const auto end = text->find('\0', start);
        argv.push_back(text->substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return argv;
}

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// `git-receive-pack DIR` (ssh, local pushes), `git receive-pack [--stateless-rpc] DIR`
// (git-http-backend, git shell, gitolite). A shell running one (`sh -c "git-receive-pack ..."`)
// is not it: argv[0] decides.
bool is_receive_pack(const std::vector<std::string>& argv) {
    if (argv.empty())
        return false;
    const auto program = base_name(argv[0]);
    if (program == "git-receive-pack")
        return true;
    if (program != "git")
        return false;
    for (std::size_t i = 1; i < argv.size(); ++i)
        if (argv[i] == "receive-pack")
            return true;
    return false;
}

// The fields of /proc/PID/stat after the command name, which is in parentheses and may hold
// spaces or parentheses itself: field 3 (state) is fields[0].
std::vector<std::string> stat_fields(const std::string& proc_root, long pid) {
    std::vector<std::string> fields;
    const auto text = read_file(proc_root + "/" + std::to_string(pid) + "/stat");
    if (!text)
        return fields;
    const auto name_end = text->rfind(')');
    if (name_end == std::string::npos)
        return fields;
    std::string field;
    for (std::size_t i = name_end + 1; i < text->size(); ++i) {
        const char c = (*text)[i];
        if (c == ' ' || c == '\n') {
            if (!field.empty())
                fields.push_back(std::move(field));
            field.clear();
        } else {
            field += c;
        }
    }
    if (!field.empty())
        fields.push_back(std::move(field));
    return fields;
}

std::optional<std::string> digest_hex(const std::string& input) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1 ||
        size < 16)
        return std::nullopt;
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < 16; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0x0F];
    }
    return text;
}

} // namespace

std::optional<std::string> push_id_from(const std::string& proc_root, long start_pid) noexcept {
    try {
        long pid = start_pid;
        for (int generation = 0; generation < 32 && pid > 1; ++generation) {
            const auto fields = stat_fields(proc_root, pid);
            // Field 4 is the parent, field 22 the start time in clock ticks since boot.
            if (fields.size() < 20)
                return std::nullopt;
            if (is_receive_pack(command_line(proc_root, pid))) {
                auto boot_id = read_file(proc_root + "/sys/kernel/random/boot_id").value_or("");
                while (!boot_id.empty() && boot_id.back() == '\n')
                    boot_id.pop_back();
                return digest_hex("trunkgate push\n" + boot_id + "\n" + std::to_string(pid) + "\n" +
                                  fields[19] + "\n");
            }
            pid = std::stol(fields[1]);
        }
    } catch (...) {
        // A /proc entry that changed under us (the process ended): no id rather than a wrong one.
    }
    return std::nullopt;
}

std::optional<std::string> current_push_id() noexcept {
    return push_id_from("/proc", static_cast<long>(::getppid()));
}

} // namespace trunkgate
