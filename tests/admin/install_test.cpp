#include <catch2/catch.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/admin/install.hpp"

using namespace trunkgate;

TEST_CASE("install: a hook is trunkgate's only when its second line says so", "[install]") {
    CHECK(is_trunkgate_hook("#!/bin/sh\n# trunkgate-managed hook: written by `trunkgate install`\n"
                            "exec x\n"));
    CHECK(
        is_trunkgate_hook(testing::read_file(testing::source_path("templates/hooks/pre-receive"))));
    CHECK(is_trunkgate_hook(
        testing::read_file(testing::source_path("templates/hooks/post-receive"))));
    CHECK_FALSE(is_trunkgate_hook("#!/bin/sh\n# calls the trunkgate-managed hook of repo x\n"));
    CHECK_FALSE(is_trunkgate_hook("#!/bin/sh\nexec ci-hook # trunkgate-managed hook\n"));
    CHECK_FALSE(is_trunkgate_hook("# trunkgate-managed hook"));
    CHECK_FALSE(is_trunkgate_hook(""));
}
