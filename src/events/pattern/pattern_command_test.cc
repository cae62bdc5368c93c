#include "cli/pattern_command.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace klaxon::cli {
namespace {

int RunCmd(std::vector<std::string> args, std::string* out) {
  std::ostringstream o, e;
  int code = RunPatternCommand(args, o, e);
  *out = o.str() + e.str();
  return code;
}

TEST(PatternCommand, TestPrintsResultAndExitCode) {
  std::string out;
  EXPECT_EQ(RunCmd({"test", "--pattern", R"({"a":["x"]})", "--event", R"({"a":"x"})"}, &out), 0);
  EXPECT_EQ(out, "true\n");
  EXPECT_EQ(RunCmd({"test", "--pattern", R"({"a":["x"]})", "--event", R"({"a":"y"})"}, &out), 1);
  EXPECT_EQ(out, "false\n");
  EXPECT_EQ(RunCmd({"test", "--pattern", R"({"a":[]})", "--event", "{}"}, &out), 2);
  EXPECT_EQ(out, "Empty arrays are not allowed\n");
  EXPECT_EQ(RunCmd({"test"}, &out), 64);
}

TEST(PatternCommand, Explain) {
  std::string out;
  EXPECT_EQ(
      RunCmd({"explain", "--pattern", R"({"a":[{"numeric":[">",5]}]})", "--event", R"({"a":3})"},
             &out),
      1);
  EXPECT_NE(out.find("FAIL a"), std::string::npos) << out;
}

TEST(PatternCommand, JsonlOverConformanceFile) {
  const char* root = std::getenv("KLAXON_SOURCE_DIR");
  std::string file = std::string(root ? root : ".") +
                     "/../shared/conformance/event-patterns/conformance-invalid.jsonl";
  std::string out;
  EXPECT_EQ(RunCmd({"test", "--jsonl", file}, &out), 0);
  EXPECT_NE(out.find("arrays_empty_EXC\tinvalid\tEmpty arrays are not allowed\n"),
            std::string::npos)
      << out.substr(0, 500);
}

}  // namespace
}  // namespace klaxon::cli
