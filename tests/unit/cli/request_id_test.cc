#include "ruta/cli/request_id.h"

#include <set>

#include "absl/random/random.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

TEST(RequestIdTest, IsACanonicalVersion4Uuid) {
  absl::BitGen gen;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewRequestId(gen);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(IsCanonicalUuid(id)) << id;
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[18], '-');
    EXPECT_EQ(id[23], '-');
    EXPECT_EQ(id[14], '4') << id;  // version
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(IsCanonicalUuid(NewRequestId()));
}

TEST(RequestIdTest, CanonicalForm) {
  EXPECT_TRUE(IsCanonicalUuid("3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b"));
  EXPECT_FALSE(IsCanonicalUuid("3F2B8C1E-5A7D-4E9F-8B6A-0C1D2E3F4A5B"));
  EXPECT_FALSE(IsCanonicalUuid("3f2b8c1e5a7d4e9f8b6a0c1d2e3f4a5b"));
  EXPECT_FALSE(IsCanonicalUuid("3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5g"));
  EXPECT_FALSE(IsCanonicalUuid(""));
}

TEST(RequestIdTest, NormalizesGivenIds) {
  EXPECT_EQ(*NormalizeRequestId("3F2B8C1E-5A7D-4E9F-8B6A-0C1D2E3F4A5B"),
            "3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b");
  EXPECT_FALSE(NormalizeRequestId("not-a-uuid").ok());
}

}  // namespace
}  // namespace ruta::cli
