// Version markers: every program of this build says which version it is, readably without
// running it (trunkgate doctor reads hook programs this way).
#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/util/version.hpp"

using namespace trunkgate;
using trunkgate::testing::bin_path;
using trunkgate::testing::temp_dir;
using trunkgate::testing::write_file;

TEST_CASE("version: the programs of this build carry this build's version", "[version]") {
    CHECK(trunkgate_version() == TRUNKGATE_TEST_VERSION);
    for (const char* program : {"trunkgate", "trunkgate-pre-receive", "trunkgate-post-receive",
                                "trunkgate-proc-receive"}) {
        INFO(program);
        CHECK(program_version(bin_path(program)) == std::string(trunkgate_version()));
    }
}

TEST_CASE("version: a marker is read from any file, and none or a damaged one is no version",
          "[version]") {
    temp_dir dir;
    write_file(dir / "old", std::string("\x7f"
                                        "ELF\0\0garbage\ntrunkgate-version: 0.0.9\n\0",
                                        40));
    CHECK(program_version(dir / "old") == std::string("0.0.9"));
    write_file(dir / "none", "#!/bin/sh\nexec true\n");
    CHECK_FALSE(program_version(dir / "none"));
    write_file(dir / "odd", "\ntrunkgate-version: $(rm -rf /)\n");
    CHECK_FALSE(program_version(dir / "odd"));
    CHECK_FALSE(program_version(dir / "missing"));
}
