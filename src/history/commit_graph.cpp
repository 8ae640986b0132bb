#include "trunkgate/history/commit_graph.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <mutex>

#include "trunkgate/history/git.hpp"
#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

constexpr std::size_t hash_size = GIT_OID_RAWSZ; // SHA-1: libgit2 1.5 knows no other
constexpr std::size_t header_size = 8;
constexpr std::size_t chunk_entry_size = 12;
constexpr std::size_t fanout_size = 256 * 4;
constexpr std::size_t record_size = hash_size + 16; // CDAT: tree, 2 parents, generation + time
constexpr std::uint32_t parent_none = 0x70000000u;
constexpr std::uint32_t edge_flag = 0x80000000u;
constexpr std::uint32_t offset_overflow = 0x80000000u;
constexpr std::uint32_t max_commits = parent_none; // positions must stay below GRAPH_PARENT_NONE

std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 |
           std::uint32_t(p[3]);
}

std::uint64_t be64(const unsigned char* p) {
    return std::uint64_t(be32(p)) << 32 | be32(p + 4);
}

// True when id `a` sorts before id `b`; the first eight bytes decide all but one case in 2^64.
bool id_before(const unsigned char* a, const unsigned char* b) {
    const auto a_head = be64(a), b_head = be64(b);
    if (a_head != b_head)
        return a_head < b_head;
    return std::memcmp(a, b, hash_size) < 0;
}

std::uint32_t chunk_id(const char (&name)[5]) {
    return be32(reinterpret_cast<const unsigned char*>(name));
}

} // namespace

// One file of the graph, mapped read-only. Chunk pointers are set only after their bounds are
// checked against the file.
struct commit_graph::layer {
    std::string path;
    const unsigned char* data = nullptr;
    std::size_t length = 0;
    const unsigned char* fanout = nullptr;
    const unsigned char* ids = nullptr;
    const unsigned char* records = nullptr;
    const unsigned char* generation_offsets = nullptr; // GDA2
    const unsigned char* offset_overflows = nullptr;   // GDO2
    const unsigned char* edges = nullptr;              // EDGE
    const unsigned char* base_hashes = nullptr;        // BASE
    std::size_t overflow_count = 0;
    std::size_t edge_count = 0;
    std::uint32_t base_layers = 0;
    std::uint32_t count = 0;
    std::uint32_t first = 0; ///< global position of this layer's first commit

    layer() = default;
    layer(const layer&) = delete;
    layer& operator=(const layer&) = delete;
    ~layer() {
        if (data)
            ::munmap(const_cast<unsigned char*>(data), length);
    }

    const unsigned char* trailer() const { return data + length - hash_size; }
    const unsigned char* id_at(std::uint32_t local) const { return ids + local * hash_size; }
};

namespace {

using layer = commit_graph::layer;

// Maps `path`; nullptr when it cannot be opened. Throws commit_graph_doubt for an empty file.
std::unique_ptr<layer> map_layer(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw commit_graph_doubt(path + " cannot be opened: " + std::strerror(errno));
    struct stat info {};
    auto mapped = std::make_unique<layer>();
    mapped->path = path;
    if (::fstat(fd, &info) != 0 || info.st_size <= 0) {
        ::close(fd);
        throw commit_graph_doubt(path + " is empty or cannot be read");
    }
    void* data =
        ::mmap(nullptr, static_cast<std::size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (data == MAP_FAILED)
        throw commit_graph_doubt(path + " cannot be mapped: " + std::strerror(errno));
    mapped->data = static_cast<const unsigned char*>(data);
    mapped->length = static_cast<std::size_t>(info.st_size);
    return mapped;
}

void require(bool condition, const layer& file, const std::string& what) {
    if (!condition)
        throw commit_graph_doubt(file.path + ": " + what);
}

void read_header(layer& file, std::size_t& chunks) {
    require(file.length >= header_size + chunk_entry_size + hash_size, file, "too short");
    require(std::memcmp(file.data, "CGPH", 4) == 0, file, "not a commit-graph");
    require(file.data[4] == 1, file, "unknown version " + std::to_string(file.data[4]));
    require(file.data[5] == 1, file, "not a SHA-1 graph");
    chunks = file.data[6];
    file.base_layers = file.data[7];
    require(header_size + (chunks + 1) * chunk_entry_size <= file.length - hash_size, file,
            "chunk table runs past the end");
}

// Every id in order and in the fanout bucket of its first byte: then a binary search finds every
// commit the graph has, and "not found" means "not in the graph", which the walks rely on (an
// ancestor outside the graph cannot be reached from inside it). One pass over OIDL, about 1 ms
// for 200,000 commits, once per process and file.
void check_ids(const layer& file) {
    unsigned bucket = 0;
    for (std::uint32_t i = 0; i < file.count; ++i) {
        const auto* id = file.id_at(i);
        require(i == 0 || id_before(file.id_at(i - 1), id), file,
                "commit ids out of order at " + std::to_string(i));
        while (bucket < id[0])
            require(be32(file.fanout + bucket++ * 4) <= i, file, "fanout disagrees with the ids");
        require(i < be32(file.fanout + id[0] * 4), file, "fanout disagrees with the ids");
    }
}

// Reads the chunk table, checking that chunks are in order, inside the file and of the sizes
// the commit count demands, then the ids.
void read_chunks(layer& file) {
    std::size_t chunks = 0;
    read_header(file, chunks);
    const std::size_t table_end = header_size + (chunks + 1) * chunk_entry_size;
    const std::size_t data_end = file.length - hash_size;
    struct chunk {
        std::uint32_t id;
        std::size_t offset, size;
    };
    std::vector<chunk> table;
    for (std::size_t i = 0; i < chunks; ++i) {
        const auto* entry = file.data + header_size + i * chunk_entry_size;
        const auto offset = be64(entry + 4);
        const auto next = be64(entry + 4 + chunk_entry_size);
        require(offset >= table_end && offset <= next && next <= data_end, file,
                "chunk " + std::to_string(i) + " lies outside the file or out of order");
        table.push_back({be32(entry), static_cast<std::size_t>(offset),
                         static_cast<std::size_t>(next - offset)});
    }
    require(be32(file.data + header_size + chunks * chunk_entry_size) == 0, file,
            "chunk table has no terminator");
    auto find_chunk = [&](const char(&name)[5]) -> const chunk* {
        const chunk* found = nullptr;
        for (const auto& entry : table)
            if (entry.id == chunk_id(name)) {
                require(!found, file, std::string("two ") + name + " chunks");
                found = &entry;
            }
        return found;
    };
    const auto* fanout = find_chunk("OIDF");
    require(fanout && fanout->size == fanout_size, file, "no valid OIDF chunk");
    file.fanout = file.data + fanout->offset;
    std::uint32_t previous = 0;
    for (int i = 0; i < 256; ++i) {
        const auto value = be32(file.fanout + i * 4);
        require(value >= previous, file, "fanout decreases");
        previous = value;
    }
    file.count = previous;
    require(file.count < max_commits, file, "too many commits");
    const auto* ids = find_chunk("OIDL");
    require(ids && ids->size == std::size_t(file.count) * hash_size, file,
            "OIDL does not hold the fanout's commit count");
    file.ids = file.data + ids->offset;
    const auto* records = find_chunk("CDAT");
    require(records && records->size == std::size_t(file.count) * record_size, file,
            "CDAT does not hold the fanout's commit count");
    file.records = file.data + records->offset;
    if (const auto* offsets = find_chunk("GDA2")) {
        require(offsets->size == std::size_t(file.count) * 4, file, "GDA2 has the wrong size");
        file.generation_offsets = file.data + offsets->offset;
    }
    if (const auto* overflows = find_chunk("GDO2")) {
        require(overflows->size % 8 == 0, file, "GDO2 has the wrong size");
        file.offset_overflows = file.data + overflows->offset;
        file.overflow_count = overflows->size / 8;
    }
    if (const auto* edges = find_chunk("EDGE")) {
        require(edges->size % 4 == 0, file, "EDGE has the wrong size");
        file.edges = file.data + edges->offset;
        file.edge_count = edges->size / 4;
    }
    const auto* bases = find_chunk("BASE");
    require(file.base_layers == 0 || (bases && bases->size == file.base_layers * hash_size), file,
            "BASE does not name the base layers");
    if (file.base_layers)
        file.base_hashes = file.data + bases->offset;
    check_ids(file);
}

std::string hex_of(const unsigned char* hash) {
    git_oid oid;
    std::memcpy(oid.id, hash, hash_size);
    return to_hex(oid);
}

bool commit_graph_disabled(git_repository* repo) {
    const auto value = config_string(repo, "core.commitGraph");
    int enabled = 1;
    if (value && git_config_parse_bool(&enabled, value->c_str()) != 0) {
        git_error_clear();
        enabled = 1;
    }
    return !enabled;
}

std::vector<std::string> chain_hashes(const std::string& chain_path) {
    std::ifstream in(chain_path);
    std::vector<std::string> hashes;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            hashes.push_back(line);
    if (in.bad())
        throw commit_graph_doubt(chain_path + " cannot be read");
    return hashes;
}

} // namespace

std::unique_ptr<commit_graph> commit_graph::open(git_repository* repo, std::string* why_not) {
    const std::string common = git_repository_commondir(repo);
    const std::string info = common + "objects/info/";
    const std::string single = info + "commit-graph";
    const std::string chain = info + "commit-graphs/commit-graph-chain";
    const bool has_single = file_exists(single);
    if (!has_single && !file_exists(chain))
        return nullptr;
    auto say = [&](const std::string& reason) {
        if (why_not)
            *why_not = reason;
        return nullptr;
    };
    if (commit_graph_disabled(repo))
        return say("core.commitGraph is false");
    if (file_exists(common + "shallow") || file_exists(common + "info/grafts"))
        return say("the repository is shallow or has grafts, so parents differ from the graph's");
    std::unique_ptr<commit_graph> graph(new commit_graph());
    try {
        const auto names = has_single ? std::vector<std::string>{""} : chain_hashes(chain);
        if (names.empty())
            return say(chain + " names no layer");
        for (std::size_t i = 0; i < names.size(); ++i) {
            const auto path =
                has_single ? single : info + "commit-graphs/graph-" + names[i] + ".graph";
            auto file = map_layer(path);
            read_chunks(*file);
            require(file->base_layers == i, *file, "does not sit on the layers below it");
            for (std::size_t base = 0; base < i; ++base)
                require(hex_of(file->base_hashes + base * hash_size) == names[base], *file,
                        "names other base layers than the chain");
            require(has_single || hex_of(file->trailer()) == names[i], *file,
                    "checksum differs from its name");
            file->first = graph->size_;
            require(std::uint64_t(graph->size_) + file->count < max_commits, *file,
                    "too many commits");
            graph->size_ += file->count;
            graph->corrected_dates_ = graph->corrected_dates_ && file->generation_offsets;
            graph->layers_.push_back(std::move(file));
        }
    } catch (const commit_graph_doubt& doubt) {
        return say(doubt.what());
    }
    return graph;
}

namespace {

// What identifies the files a graph was read from: the single file's or the chain's inode, size
// and modification time (git replaces both by renaming a new file into place).
struct file_identity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t modified_ns = 0;
    bool operator==(const file_identity& other) const {
        return device == other.device && inode == other.inode && size == other.size &&
               modified_ns == other.modified_ns;
    }
};

std::optional<file_identity> identity_of(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return std::nullopt;
    return file_identity{info.st_dev, info.st_ino, info.st_size,
                         std::int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
}

struct cached_graph {
    std::string common;
    std::optional<file_identity> single, chain;
    bool filled = false;
    std::shared_ptr<const commit_graph> graph;
};

} // namespace

std::shared_ptr<const commit_graph> commit_graph::shared(git_repository* repo) {
    static std::mutex lock;
    static cached_graph cache;
    const std::string common = git_repository_commondir(repo);
    const auto single = identity_of(common + "objects/info/commit-graph");
    const auto chain = identity_of(common + "objects/info/commit-graphs/commit-graph-chain");
    if (!single && !chain)
        return nullptr;
    // What open() refuses a graph for besides its files is looked at every time.
    if (commit_graph_disabled(repo) || file_exists(common + "shallow") ||
        file_exists(common + "info/grafts"))
        return nullptr;
    const std::lock_guard<std::mutex> guard(lock);
    if (!cache.filled || cache.common != common || !(cache.single == single) ||
        !(cache.chain == chain)) {
        cache = {common, single, chain, true, open(repo)};
    }
    return cache.graph;
}

commit_graph::~commit_graph() = default;

std::vector<std::string> commit_graph::files() const {
    std::vector<std::string> paths;
    for (const auto& file : layers_)
        paths.push_back(file->path);
    return paths;
}

const commit_graph::layer& commit_graph::layer_of(std::uint32_t position) const {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
        if (position >= (*it)->first && position - (*it)->first < (*it)->count)
            return **it;
    throw commit_graph_doubt("position " + std::to_string(position) + " is outside the graph");
}

std::optional<std::uint32_t> commit_graph::find(const git_oid& id) const {
    for (const auto& file : layers_) {
        const unsigned first_byte = id.id[0];
        std::uint32_t low = first_byte ? be32(file->fanout + (first_byte - 1) * 4) : 0;
        std::uint32_t high = be32(file->fanout + first_byte * 4);
        while (low < high) {
            const auto middle = low + (high - low) / 2;
            const int order = std::memcmp(file->id_at(middle), id.id, hash_size);
            if (order == 0)
                return file->first + middle;
            if (order < 0)
                low = middle + 1;
            else
                high = middle;
        }
    }
    return std::nullopt;
}

git_oid commit_graph::id(std::uint32_t position) const {
    const auto& file = layer_of(position);
    git_oid oid;
    std::memcpy(oid.id, file.id_at(position - file.first), hash_size);
    return oid;
}

// Time and generation straight from the record, not yet checked against its parents.
commit_graph::record_view commit_graph::unchecked_record(const layer& file,
                                                         std::uint32_t position) const {
    const auto local = position - file.first;
    const auto* entry = file.records + std::size_t(local) * record_size + hash_size + 8;
    const auto time =
        static_cast<std::int64_t>(std::uint64_t(be32(entry) & 3) << 32 | be32(entry + 4));
    if (!corrected_dates_) {
        const auto level = be32(entry) >> 2;
        if (level == 0)
            throw commit_graph_doubt(file.path + ": a commit without a generation number");
        return {time, level};
    }
    std::uint64_t offset = be32(file.generation_offsets + local * 4);
    if (offset & offset_overflow) {
        const auto index = offset & ~std::uint64_t(offset_overflow);
        if (index >= file.overflow_count)
            throw commit_graph_doubt(file.path + ": a generation overflow past GDO2");
        offset = be64(file.offset_overflows + index * 8);
    }
    return {time, static_cast<std::uint64_t>(time) + offset};
}

commit_graph::record_view commit_graph::key(std::uint32_t position) const {
    thread_local std::vector<std::uint32_t> parents;
    parents.clear();
    return read(position, parents);
}

std::uint64_t commit_graph::generation(std::uint32_t position) const {
    return key(position).generation;
}

namespace {

// What git writes for a commit whose parents' highest generation is `parents_max` (0 for a root):
// the topological level, max + 1 (capped, as git caps it), or the corrected commit date,
// max(time, max + 1).
std::uint64_t expected_generation(bool corrected_dates, std::int64_t time,
                                  std::uint64_t parents_max) {
    constexpr std::uint64_t level_cap = 0x3fffffff;
    if (!corrected_dates)
        return std::min(parents_max + 1, level_cap);
    const auto date = static_cast<std::uint64_t>(std::max<std::int64_t>(time, 0));
    return std::max(date, parents_max + 1);
}

} // namespace

// Reads a record and checks that its generation is exactly what its parents' give, so that a
// generation raised or lowered by damage is caught by the first walk that reads the commit, not
// only by one that reads its children.
commit_graph::record_view commit_graph::read(std::uint32_t position,
                                             std::vector<std::uint32_t>& out) const {
    const auto& file = layer_of(position);
    const auto own = unchecked_record(file, position);
    std::uint64_t parents_max = 0;
    const auto impossible = [&](std::uint32_t parent) {
        return commit_graph_doubt(file.path + ": commit " + std::to_string(position) +
                                  " has an impossible parent " + std::to_string(parent));
    };
    const auto add = [&](std::uint32_t parent) {
        // A parent lives in this layer or below, and its generation is lower.
        if (parent >= file.first + file.count)
            throw impossible(parent);
        const auto generation = unchecked_record(layer_of(parent), parent).generation;
        if (generation >= own.generation)
            throw impossible(parent);
        parents_max = std::max(parents_max, generation);
        out.push_back(parent);
    };
    for_each_parent(file, position, add);
    if (own.generation != expected_generation(corrected_dates_, own.time, parents_max))
        throw commit_graph_doubt(file.path + ": commit " + std::to_string(position) +
                                 " has a generation its parents do not give");
    return own;
}

template <typename Visit>
void commit_graph::for_each_parent(const layer& file, std::uint32_t position, Visit&& visit) const {
    const auto* entry = file.records + std::size_t(position - file.first) * record_size + hash_size;
    const auto first = be32(entry);
    if (first == parent_none)
        return;
    visit(first);
    const auto second = be32(entry + 4);
    if (second == parent_none)
        return;
    if (!(second & edge_flag)) {
        visit(second);
        return;
    }
    for (std::size_t index = second & ~edge_flag;; ++index) {
        if (index >= file.edge_count)
            throw commit_graph_doubt(file.path + ": a parent list runs past EDGE");
        const auto value = be32(file.edges + index * 4);
        visit(value & ~edge_flag);
        if (value & edge_flag)
            return;
    }
}

std::optional<std::string> commit_graph::verify() const {
    for (const auto& file : layers_) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int digest_size = 0;
        if (EVP_Digest(file->data, file->length - hash_size, digest.data(), &digest_size,
                       EVP_sha1(), nullptr) != 1 ||
            digest_size != hash_size || std::memcmp(digest.data(), file->trailer(), hash_size))
            return file->path + ": the checksum does not match the contents";
        for (std::uint32_t i = 1; i < file->count; ++i)
            if (std::memcmp(file->id_at(i - 1), file->id_at(i), hash_size) >= 0)
                return file->path + ": commit ids out of order at " + std::to_string(i);
    }
    return std::nullopt;
}

} // namespace trunkgate
