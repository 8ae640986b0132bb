// libFuzzer target: git's commit-graph file through commit_graph::open and every accessor a walk
// uses. commit_graph_doubt is the documented answer to a file that contradicts itself; anything
// the reader does return must hold up (parents inside the graph and of lower generation, ids
// found where they are).
#include <git2.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "trunkgate/history/commit_graph.hpp"

namespace {

struct scratch_repository {
    std::string graph_path;
    git_repository* repo = nullptr;
    scratch_repository() {
        git_libgit2_init();
        char dir[] = "/tmp/trunkgate-fuzz-graph-XXXXXX";
        if (!mkdtemp(dir) || git_repository_init(&repo, dir, 1) != 0)
            __builtin_trap();
        graph_path = std::string(dir) + "/objects/info/commit-graph";
    }
};

void check_record(const trunkgate::commit_graph& graph, std::uint32_t position) {
    std::vector<std::uint32_t> parents;
    const auto record = graph.read(position, parents);
    for (const auto parent : parents)
        if (parent >= graph.size() || graph.key(parent).generation >= record.generation)
            __builtin_trap();
    const auto found = graph.find(graph.id(position));
    if (!found || *found != position)
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static scratch_repository scratch;
    unlink(scratch.graph_path.c_str());
    {
        std::ofstream out(scratch.graph_path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::string why_not;
    const auto graph = trunkgate::commit_graph::open(scratch.repo, &why_not);
    if (!graph)
        return 0;
    for (std::uint32_t position = 0; position < graph->size() && position < 256; ++position) {
        try {
            check_record(*graph, position);
        } catch (const trunkgate::commit_graph_doubt&) {
        }
    }
    (void)graph->verify();
    return 0;
}
