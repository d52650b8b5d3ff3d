// Disclosure control of dashboard tables (ruta/core/disclosure.h): primary
// and complementary suppression, checked against an attacker written here,
// independently of the library: for every suppressed entry x_i, it writes
// down the equations of the release (cells sum to row and column totals,
// totals to the grand total), substitutes the published values, and asks
// whether rank([A; e_i]) == rank(A) over the rationals (Gaussian elimination
// with exact fractions), i.e. whether x_i is a linear combination of what is
// published.
#include "ruta/core/disclosure.h"

#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::core {
namespace {

// ---- The independent attacker ---------------------------------------------

// An exact rational num/den, den > 0, reduced. Overflow aborts the test.
struct Q {
  int64_t num = 0;
  int64_t den = 1;
};

Q Make(__int128 n, __int128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  __int128 a = n < 0 ? -n : n, b = d;
  while (b != 0) {
    __int128 t = a % b;
    a = b;
    b = t;
  }
  if (a > 1) {
    n /= a;
    d /= a;
  }
  if (n > INT64_MAX || n < INT64_MIN || d > INT64_MAX) {
    ADD_FAILURE() << "rational overflow in the test's attacker";
    return {0, 1};
  }
  return {static_cast<int64_t>(n), static_cast<int64_t>(d)};
}
Q Sub(Q a, Q b) {
  return Make(static_cast<__int128>(a.num) * b.den -
                  static_cast<__int128>(b.num) * a.den,
              static_cast<__int128>(a.den) * b.den);
}
Q Mul(Q a, Q b) {
  return Make(static_cast<__int128>(a.num) * b.num,
              static_cast<__int128>(a.den) * b.den);
}
Q Div(Q a, Q b) {
  return Make(static_cast<__int128>(a.num) * b.den,
              static_cast<__int128>(a.den) * b.num);
}

int Rank(std::vector<std::vector<Q>> m) {
  int rank = 0;
  const size_t cols = m.empty() ? 0 : m[0].size();
  for (size_t c = 0; c < cols && rank < static_cast<int>(m.size()); ++c) {
    size_t p = rank;
    while (p < m.size() && m[p][c].num == 0) ++p;
    if (p == m.size()) continue;
    std::swap(m[p], m[rank]);
    for (size_t i = rank + 1; i < m.size(); ++i) {
      if (m[i][c].num == 0) continue;
      const Q f = Div(m[i][c], m[rank][c]);
      for (size_t j = c; j < cols; ++j) {
        m[i][j] = Sub(m[i][j], Mul(f, m[rank][j]));
      }
    }
    ++rank;
  }
  return rank;
}

// One named entry of a release with its published value (nullopt if
// suppressed).
struct Entry {
  std::string name;
  std::optional<int64_t> value;
};

// The suppressed entries the attacker recovers exactly, by name ("cell 2,1",
// "row total 2", "column total 1", "grand total").
std::vector<std::string> Attack(const ReleasedTable& t) {
  std::vector<Entry> entries;
  const int rows = static_cast<int>(t.cells.size());
  const int cols = static_cast<int>(t.cells[0].size());
  auto cell = [&](int r, int c) { return r * cols + c; };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      entries.push_back({absl::StrCat("cell ", r, ",", c), t.cells[r][c]});
    }
  }
  const int rt0 = static_cast<int>(entries.size());
  for (size_t r = 0; r < t.row_totals.size(); ++r) {
    entries.push_back({absl::StrCat("row total ", r), t.row_totals[r]});
  }
  const int ct0 = static_cast<int>(entries.size());
  for (size_t c = 0; c < t.column_totals.size(); ++c) {
    entries.push_back({absl::StrCat("column total ", c), t.column_totals[c]});
  }
  const int g = static_cast<int>(entries.size());
  if (t.has_grand_total) entries.push_back({"grand total", t.grand_total});

  // Every equation the release implies, as coefficient lists over entries.
  std::vector<std::vector<int>> eqs;
  auto eq = [&]() -> std::vector<int>& {
    eqs.emplace_back(entries.size(), 0);
    return eqs.back();
  };
  if (!t.row_totals.empty()) {
    for (int r = 0; r < rows; ++r) {
      auto& e = eq();
      for (int c = 0; c < cols; ++c) e[cell(r, c)] = 1;
      e[rt0 + r] = -1;
    }
  }
  if (!t.column_totals.empty()) {
    for (int c = 0; c < cols; ++c) {
      auto& e = eq();
      for (int r = 0; r < rows; ++r) e[cell(r, c)] = 1;
      e[ct0 + c] = -1;
    }
  }
  if (t.has_grand_total) {
    // The grand total is the sum of all cells, of the row totals and of the
    // column totals (some of these are implied by the others: harmless).
    auto& all = eq();
    for (int i = 0; i < rows * cols; ++i) all[i] = 1;
    all[g] = -1;
    if (!t.row_totals.empty()) {
      auto& e = eq();
      for (int r = 0; r < rows; ++r) e[rt0 + r] = 1;
      e[g] = -1;
    }
    if (!t.column_totals.empty()) {
      auto& e = eq();
      for (int c = 0; c < cols; ++c) e[ct0 + c] = 1;
      e[g] = -1;
    }
  }

  // Substitute the published values: the unknowns' columns remain (the
  // right-hand side does not change which unknowns are determined).
  std::vector<int> unknown;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].value.has_value()) unknown.push_back(static_cast<int>(i));
  }
  std::vector<std::vector<Q>> a;
  for (const auto& e : eqs) {
    std::vector<Q> row;
    for (int u : unknown) row.push_back({e[u], 1});
    a.push_back(std::move(row));
  }
  const int rank = Rank(a);
  std::vector<std::string> recovered;
  for (size_t k = 0; k < unknown.size(); ++k) {
    auto with = a;
    std::vector<Q> unit(unknown.size(), Q{0, 1});
    unit[k] = {1, 1};
    with.push_back(unit);
    if (Rank(with) == rank) recovered.push_back(entries[unknown[k]].name);
  }
  return recovered;
}

// A release with only primary suppression (what a naive dashboard would do).
ReleasedTable PrimaryOnly(const CountTable& t, int64_t k) {
  ReleasedTable out;
  const size_t rows = t.counts.size(), cols = t.counts[0].size();
  auto show = [k](int64_t v) -> std::optional<int64_t> {
    if (v < k) return std::nullopt;
    return v;
  };
  std::vector<int64_t> rsum(rows, 0), csum(cols, 0);
  int64_t total = 0;
  for (size_t r = 0; r < rows; ++r) {
    out.cells.emplace_back();
    for (size_t c = 0; c < cols; ++c) {
      out.cells[r].push_back(show(t.counts[r][c]));
      rsum[r] += t.counts[r][c];
      csum[c] += t.counts[r][c];
      total += t.counts[r][c];
    }
  }
  if (t.publish_totals) {
    if (cols >= 2) {
      for (int64_t v : rsum) out.row_totals.push_back(show(v));
    }
    if (cols >= 2 && rows >= 2) {
      for (int64_t v : csum) out.column_totals.push_back(show(v));
    }
    out.has_grand_total = true;
    out.grand_total = show(total);
  }
  return out;
}

// Checks everything ReleaseCountTable promises about `r` for `t` and `k`.
void ExpectSafeRelease(const CountTable& t, int64_t k, const ReleasedTable& r,
                       const std::string& what) {
  SCOPED_TRACE(what);
  const size_t rows = t.counts.size(), cols = t.counts[0].size();
  auto check = [&](const std::string& name, int64_t truth,
                   const std::optional<int64_t>& shown) {
    if (truth < k) {
      EXPECT_FALSE(shown.has_value()) << name << " = " << truth << " < k";
    }
    if (shown.has_value()) {
      EXPECT_GE(*shown, k) << name;
      EXPECT_EQ(*shown, truth) << name << " published a wrong value";
    }
  };
  ASSERT_EQ(r.cells.size(), rows);
  std::vector<int64_t> rsum(rows, 0), csum(cols, 0);
  int64_t total = 0;
  for (size_t i = 0; i < rows; ++i) {
    ASSERT_EQ(r.cells[i].size(), cols);
    for (size_t j = 0; j < cols; ++j) {
      check(absl::StrCat("cell ", i, ",", j), t.counts[i][j], r.cells[i][j]);
      rsum[i] += t.counts[i][j];
      csum[j] += t.counts[i][j];
      total += t.counts[i][j];
    }
  }
  const bool row_totals = t.publish_totals && cols >= 2;
  const bool col_totals = row_totals && rows >= 2;
  ASSERT_EQ(r.row_totals.size(), row_totals ? rows : 0);
  ASSERT_EQ(r.column_totals.size(), col_totals ? cols : 0);
  ASSERT_EQ(r.has_grand_total, t.publish_totals);
  if (!t.publish_totals) {
    EXPECT_FALSE(r.grand_total.has_value());
  }
  for (size_t i = 0; i < r.row_totals.size(); ++i) {
    check(absl::StrCat("row total ", i), rsum[i], r.row_totals[i]);
  }
  for (size_t j = 0; j < r.column_totals.size(); ++j) {
    check(absl::StrCat("column total ", j), csum[j], r.column_totals[j]);
  }
  if (r.has_grand_total) check("grand total", total, r.grand_total);
  EXPECT_THAT(Attack(r), testing::IsEmpty())
      << "suppressed entries recoverable from the release";
}

CountTable RandomTable(std::mt19937_64& rng, int rows, int cols, int64_t k) {
  CountTable t;
  std::uniform_real_distribution<double> u(0, 1);
  // Skewed: how often a cell is small varies per table, so that some tables
  // are mostly small and some mostly large.
  const double p_small = u(rng);
  for (int r = 0; r < rows; ++r) {
    t.counts.emplace_back();
    for (int c = 0; c < cols; ++c) {
      int64_t v;
      if (u(rng) < p_small) {
        v = std::uniform_int_distribution<int64_t>(0, k - 1)(rng);
      } else {
        v = std::uniform_int_distribution<int64_t>(k, 8 * k)(rng);
      }
      t.counts[r].push_back(v);
    }
  }
  t.publish_totals = u(rng) < 0.85;
  return t;
}

// ---- The property tests ----------------------------------------------------

TEST(DisclosureTest, RandomTablesAreSafe) {
  int tables = 0, suppressed_any = 0, complementary = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    const int64_t ks[] = {5, 10, 20};
    const int64_t k = ks[seed % 3];
    // 1-D (one column) for a quarter of the seeds.
    const int rows = std::uniform_int_distribution<int>(1, 12)(rng);
    const int cols =
        seed % 4 == 0 ? 1 : std::uniform_int_distribution<int>(1, 6)(rng);
    const CountTable t = RandomTable(rng, rows, cols, k);
    DisclosureOptions opt;
    opt.threshold = k;
    absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, opt);
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectSafeRelease(t, k, *r,
                      absl::StrCat("seed ", seed, " ", rows, "x", cols,
                                   " k=", k, " totals=", t.publish_totals));
    ++tables;
    // How many entries went beyond primary suppression.
    const ReleasedTable naive = PrimaryOnly(t, k);
    int hidden = 0, naive_hidden = 0;
    for (size_t i = 0; i < r->cells.size(); ++i) {
      for (size_t j = 0; j < r->cells[i].size(); ++j) {
        hidden += !r->cells[i][j].has_value();
        naive_hidden += !naive.cells[i][j].has_value();
      }
    }
    suppressed_any += naive_hidden > 0;
    complementary += hidden > naive_hidden;
    // The same input gives the same output.
    absl::StatusOr<ReleasedTable> again = ReleaseCountTable(t, opt);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->cells, r->cells);
    EXPECT_EQ(again->row_totals, r->row_totals);
    EXPECT_EQ(again->column_totals, r->column_totals);
    EXPECT_EQ(again->grand_total, r->grand_total);
    // The library's own check agrees with the attacker.
    absl::StatusOr<std::vector<EntryRef>> lib = DerivableEntries(*r);
    ASSERT_TRUE(lib.ok()) << lib.status();
    EXPECT_THAT(*lib, testing::IsEmpty());
  }
  // The generator really exercises complementary suppression.
  EXPECT_EQ(tables, 400);
  EXPECT_GT(suppressed_any, 200);
  EXPECT_GT(complementary, 100);
}

// ---- The attacker can fail -------------------------------------------------

TEST(DisclosureAttackTest, FindsACellBehindAPublishedRowTotal) {
  // One small cell in a row with a published row total: 30 - 12 - 15 = 3.
  CountTable t;
  t.counts = {{12, 3, 15}, {40, 22, 18}};
  ReleasedTable naive = PrimaryOnly(t, 10);
  ASSERT_FALSE(naive.cells[0][1].has_value());
  ASSERT_TRUE(naive.row_totals[0].has_value());
  EXPECT_THAT(Attack(naive), testing::Contains("cell 0,1"));
  // The library's own check agrees.
  absl::StatusOr<std::vector<EntryRef>> lib = DerivableEntries(naive);
  ASSERT_TRUE(lib.ok());
  EXPECT_THAT(*lib, testing::Contains(EntryRef{EntryKind::kCell, 0, 1}));
}

TEST(DisclosureAttackTest, FindsAOneColumnCellFromTheGrandTotal) {
  CountTable t;
  t.counts = {{25}, {4}, {31}};
  EXPECT_THAT(Attack(PrimaryOnly(t, 10)), testing::ElementsAre("cell 1,0"));
}

TEST(DisclosureAttackTest, FindsASmallTotalThroughTheOtherTotals) {
  // Column 2 sums to 7 < k: its total is hidden, and the two cells too; but
  // the grand total minus the other column totals gives it back, and the
  // row totals give the cells back.
  CountTable t;
  t.counts = {{20, 30, 3}, {25, 35, 4}};
  const std::vector<std::string> found = Attack(PrimaryOnly(t, 10));
  EXPECT_THAT(found, testing::UnorderedElementsAre("cell 0,2", "cell 1,2",
                                                   "column total 2"));
}

TEST(DisclosureAttackTest, FindsSuppressionsNotClosedUnderAColumn) {
  // A suppressed 2x1 pair in one column of a 3x3 table: the pair is hidden
  // from the column total only if the rows protect them; they do not.
  ReleasedTable r;
  r.cells = {{std::nullopt, 30, 40}, {std::nullopt, 31, 41}, {50, 32, 42}};
  r.row_totals = {80, 80, 124};
  r.column_totals = {58, 93, 123};
  r.has_grand_total = true;
  r.grand_total = 274;
  EXPECT_THAT(Attack(r), testing::UnorderedElementsAre("cell 0,0", "cell 1,0"));
  // And a protected rectangle passes.
  r.cells = {{std::nullopt, std::nullopt, 40},
             {std::nullopt, std::nullopt, 41},
             {50, 32, 42}};
  EXPECT_THAT(Attack(r), testing::IsEmpty());
}

TEST(DisclosureAttackTest, RandomPrimaryOnlyReleasesAreOftenUnsafe) {
  int unsafe = 0, with_small = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    std::mt19937_64 rng(seed);
    CountTable t = RandomTable(rng, 4, 3, 10);
    t.publish_totals = true;
    const ReleasedTable naive = PrimaryOnly(t, 10);
    bool small = false;
    for (const auto& row : t.counts) {
      for (int64_t v : row) small = small || v < 10;
    }
    with_small += small;
    const bool attacked = !Attack(naive).empty();
    unsafe += attacked;
    // Both checks agree on every table.
    absl::StatusOr<std::vector<EntryRef>> lib = DerivableEntries(naive);
    ASSERT_TRUE(lib.ok());
    EXPECT_EQ(!lib->empty(), attacked) << "seed " << seed;
  }
  EXPECT_GT(with_small, 50);
  EXPECT_GT(unsafe, 25);
}

// ---- Examples and edge cases ----------------------------------------------

TEST(DisclosureTest, OneSmallCellIsHiddenInARectangle) {
  CountTable t;
  t.counts = {{12, 3, 15}, {40, 22, 18}};
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, {});
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectSafeRelease(t, 10, *r, "2x3");
  // The small cell and its cheapest partners: 12 in its row, 40 below the 12
  // and 22 below the 3 (the smallest in its row and column).
  int hidden = 0;
  for (const auto& row : r->cells) {
    for (const auto& c : row) hidden += !c.has_value();
  }
  EXPECT_EQ(hidden, 4);
  EXPECT_FALSE(r->cells[0][1].has_value());
  EXPECT_FALSE(r->cells[0][0].has_value());
  // Totals (all >= k) stay published.
  EXPECT_EQ(r->row_totals, (std::vector<std::optional<int64_t>>{30, 80}));
  EXPECT_EQ(r->column_totals,
            (std::vector<std::optional<int64_t>>{52, 25, 33}));
  EXPECT_EQ(r->grand_total, std::optional<int64_t>(110));
}

TEST(DisclosureTest, NoSmallCellsNothingSuppressed) {
  CountTable t;
  t.counts = {{10, 11, 12}, {13, 14, 15}, {99, 10, 10}};
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, {});
  ASSERT_TRUE(r.ok()) << r.status();
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(r->cells[i][j], std::optional<int64_t>(t.counts[i][j]));
    }
  }
  EXPECT_EQ(r->row_totals, (std::vector<std::optional<int64_t>>{33, 42, 119}));
  EXPECT_EQ(r->column_totals,
            (std::vector<std::optional<int64_t>>{122, 35, 37}));
  EXPECT_TRUE(r->has_grand_total);
  EXPECT_EQ(r->grand_total, std::optional<int64_t>(194));
}

TEST(DisclosureTest, AllCellsSmall) {
  CountTable t;
  t.counts = {{1, 0, 9}, {2, 3, 4}};  // grand total 19 >= k
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, {});
  ASSERT_TRUE(r.ok()) << r.status();
  for (const auto& row : r->cells) {
    for (const auto& c : row) EXPECT_FALSE(c.has_value());
  }
  ExpectSafeRelease(t, 10, *r, "all small");
  // 19 is the sum of the two row totals (10, 9): the 9 is hidden, so the 10
  // must be too; the grand total itself may stay.
  EXPECT_FALSE(r->row_totals[1].has_value());
  EXPECT_FALSE(r->row_totals[0].has_value());
}

TEST(DisclosureTest, SingleCell) {
  CountTable big;
  big.counts = {{42}};
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(big, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cells[0][0], std::optional<int64_t>(42));
  EXPECT_TRUE(r->row_totals.empty());
  EXPECT_TRUE(r->column_totals.empty());
  EXPECT_TRUE(r->has_grand_total);
  EXPECT_EQ(r->grand_total, std::optional<int64_t>(42));

  CountTable small;
  small.counts = {{3}};
  r = ReleaseCountTable(small, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cells[0][0].has_value());
  EXPECT_TRUE(r->has_grand_total);
  EXPECT_FALSE(r->grand_total.has_value());

  small.publish_totals = false;
  r = ReleaseCountTable(small, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cells[0][0].has_value());
  EXPECT_FALSE(r->has_grand_total);
}

TEST(DisclosureTest, WithoutTotalsOnlyPrimarySuppression) {
  CountTable t;
  t.counts = {{12, 3, 15}, {40, 22, 18}};
  t.publish_totals = false;
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->cells[0][1].has_value());
  EXPECT_EQ(r->cells[0][0], std::optional<int64_t>(12));
  EXPECT_EQ(r->cells[1][1], std::optional<int64_t>(22));
  EXPECT_TRUE(r->row_totals.empty());
  EXPECT_TRUE(r->column_totals.empty());
  EXPECT_FALSE(r->has_grand_total);
}

TEST(DisclosureTest, OneRowHasARowTotalButNoColumnTotals) {
  CountTable t;
  t.counts = {{12, 3, 15, 50}};
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->row_totals.size(), 1u);
  EXPECT_TRUE(r->column_totals.empty());
  ExpectSafeRelease(t, 10, *r, "1x4");
  EXPECT_FALSE(r->cells[0][0].has_value());  // the cheapest partner
  EXPECT_EQ(r->cells[0][3], std::optional<int64_t>(50));
}

TEST(DisclosureTest, ThresholdBelowFiveRefused) {
  CountTable t;
  t.counts = {{12}};
  DisclosureOptions opt;
  opt.threshold = 4;
  absl::StatusOr<ReleasedTable> r = ReleaseCountTable(t, opt);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), testing::HasSubstr("5"));
  opt.threshold = kMinimumThreshold;
  EXPECT_TRUE(ReleaseCountTable(t, opt).ok());
}

TEST(DisclosureTest, MalformedTablesRefused) {
  CountTable ragged;
  ragged.counts = {{1, 2, 3}, {4, 5}};
  EXPECT_EQ(ReleaseCountTable(ragged, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  CountTable empty;
  EXPECT_EQ(ReleaseCountTable(empty, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  CountTable no_columns;
  no_columns.counts = {{}};
  EXPECT_EQ(ReleaseCountTable(no_columns, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  CountTable negative;
  negative.counts = {{1, -2}};
  EXPECT_EQ(ReleaseCountTable(negative, {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  ReleasedTable bad;
  bad.cells = {{1, 2}, {3, 4}};
  bad.has_grand_total = true;
  bad.grand_total = 10;
  bad.row_totals = {3};  // wants 2
  EXPECT_EQ(DerivableEntries(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::core
