#pragma once
// `klaxon pattern`: test and explain EventBridge event patterns from the command line.
//
//   klaxon pattern test --pattern P --event E     prints true / false (exit 0 / 1), or the
//                                                 validation error (exit 2)
//   klaxon pattern test --jsonl FILE              one line per case of a conformance-format
//                                                 file: NAME<TAB>true|false|invalid[<TAB>message]
//   klaxon pattern explain --pattern P --event E  which field and operator decided (exit 0 / 1 / 2)
//
// P and E are JSON text, or @FILE to read them from a file. Usage errors exit 64.

#include <ostream>
#include <string>
#include <vector>

namespace klaxon::cli {

// Runs the subcommand; `args` excludes the program name and the word "pattern". Returns the
// process exit code. Thread-compatible (writes only to `out` / `err`).
int RunPatternCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace klaxon::cli
