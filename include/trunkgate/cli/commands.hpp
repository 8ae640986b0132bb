#pragma once
// The handlers of the command table (src/cli/commands.cpp), one file per command family in
// src/cli/, as git's builtin.h declares builtin/<cmd>.c. Each reads its parsed arguments, prints,
// and returns an exit code; a bad command line throws usage_error.

#include "trunkgate/cli/command.hpp"

namespace trunkgate {

int cmd_install(const cli_io& streams, const parsed_args& parsed);   // install.cpp
int cmd_uninstall(const cli_io& streams, const parsed_args& parsed); // install.cpp
int cmd_check(const cli_io& streams, const parsed_args& parsed);     // check.cpp
int cmd_policy(const cli_io& streams, const parsed_args& parsed);    // policy.cpp
int cmd_status(const cli_io& streams, const parsed_args& parsed);    // checks.cpp
int cmd_approve(const cli_io& streams, const parsed_args& parsed);   // checks.cpp
int cmd_audit(const cli_io& streams, const parsed_args& parsed);     // audit.cpp
int cmd_report(const cli_io& streams, const parsed_args& parsed);    // report.cpp
int cmd_deliver(const cli_io& streams, const parsed_args& parsed);   // events.cpp
int cmd_events(const cli_io& streams, const parsed_args& parsed);    // events.cpp
int cmd_doctor(const cli_io& streams, const parsed_args& parsed);    // doctor.cpp
int cmd_queue(const cli_io& streams, const parsed_args& parsed);     // queue.cpp
int cmd_rules(const cli_io& streams, const parsed_args& parsed);     // about.cpp
int cmd_version(const cli_io& streams, const parsed_args& parsed);   // about.cpp
int cmd_help(const cli_io& streams, const parsed_args& parsed);      // about.cpp

} // namespace trunkgate
