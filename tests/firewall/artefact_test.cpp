// Comment wrapping of generated files.
#include "firewall/artefact.hpp"

#include <gtest/gtest.h>

namespace mw {
namespace {

TEST(WrapComment, WrapsAtWordsWithinTheWidth) {
  EXPECT_EQ(wrap_comment("one two three four", "# ", 12), "# one two\n#   three\n#   four\n");
  EXPECT_EQ(wrap_comment("short", "# ", 80), "# short\n");
}

TEST(WrapComment, KeepsLongWordsWhole) {
  EXPECT_EQ(wrap_comment("a https://example.com/a/very/long/path b", "# ", 10),
            "# a\n#   https://example.com/a/very/long/path\n#   b\n");
}

TEST(WrapComment, CollapsesRunsOfSpaces) {
  EXPECT_EQ(wrap_comment("a   b", "# ", 80), "# a b\n");
}

}  // namespace
}  // namespace mw
