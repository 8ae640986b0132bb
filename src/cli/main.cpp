// `trunkgate`: the admin and developer CLI. Its commands are the table in src/cli/commands.cpp.
#include <iostream>

#include "trunkgate/cli/cli.hpp"

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return trunkgate::run_cli(args, std::cin, std::cout, std::cerr,
                              trunkgate::process_environment());
}
