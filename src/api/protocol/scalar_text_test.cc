#include "api/protocol/scalar_text.h"

#include <string>

#include "gtest/gtest.h"

namespace klaxon::api::protocol {
namespace {

std::string Escaped(std::string_view in) {
  std::string out;
  AppendXmlEscaped(in, &out);
  return out;
}

TEST(AppendXmlEscaped, EscapesMarkupAndCarriageReturn) {
  EXPECT_EQ(Escaped(R"(<a href="x">&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(Escaped("a\r\nb\tc"), "a&#13;\nb\tc");
}

TEST(AppendXmlEscaped, ReplacesCharactersXmlForbids) {
  // C0 controls other than tab and newline, and the noncharacters U+FFFE / U+FFFF.
  EXPECT_EQ(Escaped(std::string("a\x01"
                                "b\x1f",
                                4)),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(Escaped("x\xEF\xBF\xBEy\xEF\xBF\xBFz"), "x\xEF\xBF\xBDy\xEF\xBF\xBDz");
  // Other characters starting with EF pass through: U+FFFD itself, U+FEFF, U+F8FF.
  EXPECT_EQ(Escaped("\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xA3\xBF"),
            "\xEF\xBF\xBD\xEF\xBB\xBF\xEF\xA3\xBF");
  // A truncated sequence at the end is copied as it is.
  EXPECT_EQ(Escaped("\xEF\xBF"), "\xEF\xBF");
}

}  // namespace
}  // namespace klaxon::api::protocol
