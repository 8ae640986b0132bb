#include "trunkgate/history/ref_scan.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

namespace {

constexpr std::size_t hex_size = GIT_OID_HEXSZ;

bool parse_hex(std::string_view text, git_oid& out) {
    return text.size() >= hex_size && git_oid_fromstrn(&out, text.data(), hex_size) == 0;
}

bool valid_name(const std::string& name) {
    int valid = 0;
    return git_reference_name_is_valid(&valid, name.c_str()) == 0 && valid &&
           !(name.size() >= 5 && name.compare(name.size() - 5, 5, ".lock") == 0);
}

// A loose ref's file: "<hex>\n", or "ref: <name>\n" for a symbolic ref (skipped).
std::optional<git_oid> read_loose(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::nullopt; // deleted or packed meanwhile
        throw internal_error("cannot read ref " + path.string() + ": " + std::strerror(errno));
    }
    char content[hex_size + 1];
    const auto got = ::read(fd, content, sizeof content);
    ::close(fd);
    git_oid id;
    if (got < static_cast<ssize_t>(hex_size) || !parse_hex({content, hex_size}, id))
        return std::nullopt; // symbolic, or broken: hiding less can only make a check stricter
    return id;
}

struct loose_ref {
    std::string name;
    git_oid id;
};

std::vector<loose_ref> loose_refs(const std::string& common, std::string_view prefix) {
    // The directory that holds every ref under the prefix: refs/heads/fea -> refs/heads/.
    const auto directory = std::string(prefix.substr(0, prefix.rfind('/') + 1));
    std::vector<loose_ref> found;
    std::error_code error;
    std::filesystem::recursive_directory_iterator it(common + directory, error), end;
    if (error) {
        if (error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory)
            return found;
        throw internal_error("cannot list " + common + directory + ": " + error.message());
    }
    for (; it != end; it.increment(error)) {
        if (error)
            throw internal_error("cannot list " + common + directory + ": " + error.message());
        if (!it->is_regular_file(error))
            continue;
        auto name = it->path().string().substr(common.size());
        if (name.compare(0, prefix.size(), prefix) != 0 || !valid_name(name))
            continue;
        if (const auto id = read_loose(it->path()))
            found.push_back({std::move(name), *id});
    }
    return found;
}

class mapped_packed_refs {
  public:
    explicit mapped_packed_refs(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                return;
            throw internal_error("cannot read " + path + ": " + std::strerror(errno));
        }
        struct stat info {};
        if (::fstat(fd, &info) == 0 && info.st_size > 0) {
            void* data = ::mmap(nullptr, static_cast<std::size_t>(info.st_size), PROT_READ,
                                MAP_PRIVATE, fd, 0);
            if (data != MAP_FAILED) {
                data_ = static_cast<const char*>(data);
                size_ = static_cast<std::size_t>(info.st_size);
            }
        }
        const int saved = errno;
        ::close(fd);
        if (!data_ && info.st_size > 0)
            throw internal_error("cannot map " + path + ": " + std::strerror(saved));
    }
    ~mapped_packed_refs() {
        if (data_)
            ::munmap(const_cast<char*>(data_), size_);
    }
    mapped_packed_refs(const mapped_packed_refs&) = delete;
    mapped_packed_refs& operator=(const mapped_packed_refs&) = delete;

    std::string_view text() const { return {data_ ? data_ : "", size_}; }

  private:
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

std::string_view next_line(std::string_view text, std::size_t& at) {
    const auto end = text.find('\n', at);
    const auto line = text.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? text.size() : end + 1;
    return line;
}

// "<hex> <name>" lines, each optionally followed by "^<hex>", the tag's peeled value; "#" lines
// are the header. Only lines whose name starts with `prefix` are parsed.
void scan_packed(std::string_view text, std::string_view prefix,
                 const std::set<std::string, std::less<>>& loose_names,
                 const std::function<void(const scanned_ref&)>& visit) {
    std::size_t at = 0;
    while (at < text.size()) {
        const auto line = next_line(text, at);
        if (line.size() < hex_size + 2 || line[hex_size] != ' ')
            continue; // the header, a peeled line of a ref not wanted, or damage
        const auto name = line.substr(hex_size + 1);
        if (name.compare(0, prefix.size(), prefix) != 0 || loose_names.count(name))
            continue;
        scanned_ref ref{name, {}, std::nullopt};
        if (!parse_hex(line, ref.target))
            continue;
        if (at < text.size() && text[at] == '^') {
            std::size_t peeled_at = at;
            const auto peeled_line = next_line(text, peeled_at);
            git_oid peeled;
            if (parse_hex(peeled_line.substr(1), peeled)) {
                ref.peeled = peeled;
                at = peeled_at;
            }
        }
        visit(ref);
    }
}

} // namespace

void scan_refs(git_repository* repo, std::string_view prefix,
               const std::function<void(const scanned_ref&)>& visit) {
    const std::string common = git_repository_commondir(repo);
    std::set<std::string, std::less<>> loose_names;
    for (const auto& loose : loose_refs(common, prefix)) {
        visit({loose.name, loose.id, std::nullopt});
        loose_names.insert(loose.name);
    }
    const mapped_packed_refs packed(common + "packed-refs");
    scan_packed(packed.text(), prefix, loose_names, visit);
}

} // namespace trunkgate
