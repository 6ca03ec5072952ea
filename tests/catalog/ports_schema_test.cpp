// Schema checks over every shipped catalog/ports/*.toml, plus the loader's file handling.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "catalog/ports.hpp"

namespace mw {
namespace {

namespace fs = std::filesystem;

fs::path source_catalog_dir() {
  return fs::path(MW_SOURCE_DIR) / "catalog";
}

std::vector<fs::path> catalog_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(source_catalog_dir() / "ports")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> file_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(catalog_schema, ShipsTheThreeProducts) {
  std::set<std::string> stems;
  for (const auto& f : catalog_files()) stems.insert(f.stem().string());
  EXPECT_TRUE(stems.count("zimbra"));
  EXPECT_TRUE(stems.count("postfix-dovecot"));
  EXPECT_TRUE(stems.count("exchange"));
}

TEST(catalog_schema, EveryFileLoadsAndIsConsistent) {
  const auto files = catalog_files();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    auto loaded = load_port_catalog(file);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    const PortCatalog& cat = *loaded;
    const auto lines = file_lines(file);

    EXPECT_EQ(cat.product, file.stem().string());
    EXPECT_FALSE(cat.title.empty());
    EXPECT_FALSE(cat.ports.empty());

    std::set<std::pair<Protocol, std::uint16_t>> seen;
    for (std::size_t i = 0; i < cat.ports.size(); ++i) {
      const PortFact& f = cat.ports[i];
      SCOPED_TRACE(f.location + " " + std::string(protocol_name(f.protocol)) + "/" +
                   std::to_string(f.port));
      EXPECT_TRUE(seen.insert({f.protocol, f.port}).second) << "duplicate";
      EXPECT_TRUE(f.protocol == Protocol::tcp || f.protocol == Protocol::udp);
      EXPECT_GE(f.port, 1);
      EXPECT_FALSE(f.service.empty());
      EXPECT_FALSE(f.description.empty());
      EXPECT_FALSE(f.source.empty()) << "every fact cites where it comes from";
      EXPECT_TRUE(f.single.has_value() || !f.multi.empty());
      if (i > 0) {
        const PortFact& prev = cat.ports[i - 1];
        EXPECT_LT(std::pair(prev.protocol, prev.port), std::pair(f.protocol, f.port))
            << "ports are sorted by (protocol, port)";
      }
      for (const auto& [role, e] : f.multi) {
        (void)e;
        EXPECT_NE(std::find(cat.roles.begin(), cat.roles.end(), role), cat.roles.end())
            << "undeclared role " << role;
      }
      if (!f.feature.empty()) {
        EXPECT_NE(std::find(cat.features.begin(), cat.features.end(), f.feature),
                  cat.features.end())
            << "undeclared feature " << f.feature;
      }
      if (f.never_public) {
        if (f.single) {
          EXPECT_NE(*f.single, Exposure::public_);
          EXPECT_NE(*f.single, Exposure::admin);
        }
        for (const auto& [role, e] : f.multi) {
          EXPECT_NE(e, Exposure::public_) << role;
          EXPECT_NE(e, Exposure::admin) << role;
        }
      }
      // "file:line" points at the [[port]] header of the fact, so messages can be followed.
      const auto colon = f.location.rfind(':');
      ASSERT_NE(colon, std::string::npos);
      EXPECT_EQ(f.location.substr(0, colon), file.string());
      const std::size_t line = std::stoul(f.location.substr(colon + 1));
      ASSERT_GE(line, 1u);
      ASSERT_LE(line, lines.size());
      EXPECT_EQ(lines[line - 1], "[[port]]");
    }
  }
}

TEST(catalog_schema, EveryDeclaredRoleAndFeatureIsUsed) {
  for (const auto& file : catalog_files()) {
    SCOPED_TRACE(file.string());
    auto cat = load_port_catalog(file);
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    for (const auto& role : cat->roles) {
      EXPECT_TRUE(std::any_of(cat->ports.begin(), cat->ports.end(),
                              [&](const PortFact& f) { return f.multi.count(role) > 0; }))
          << "role " << role << " has no port";
    }
    for (const auto& feature : cat->features) {
      EXPECT_TRUE(std::any_of(cat->ports.begin(), cat->ports.end(),
                              [&](const PortFact& f) { return f.feature == feature; }))
          << "feature " << feature << " closes no port";
    }
  }
}

TEST(catalog_schema, ProductCatalogComesFromTheCatalogDirectory) {
  // ctest sets MAILWARDEN_CATALOG to the source tree's catalog/.
  EXPECT_EQ(fs::weakly_canonical(catalog_dir()), fs::weakly_canonical(source_catalog_dir()));
  for (const char* product : {"zimbra", "postfix-dovecot", "exchange"}) {
    auto cat = load_product_catalog(product);
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    EXPECT_EQ(cat->product, product);
  }
}

TEST(catalog_schema, ProductNamesCannotLeaveTheDirectory) {
  for (const char* bad : {"../zimbra", "ports/zimbra", "", "Zimbra", "zimbra.toml"}) {
    auto cat = load_product_catalog(bad);
    ASSERT_FALSE(cat.ok()) << bad;
    EXPECT_NE(cat.error().message.find("is not a product name"), std::string::npos)
        << cat.error().message;
  }
}

TEST(catalog_schema, UnknownProductNamesTheMissingFile) {
  auto cat = load_product_catalog("lotus-notes");
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.error().message.find("lotus-notes.toml: cannot read"), std::string::npos)
      << cat.error().message;
}

TEST(catalog_schema, EnvironmentOverridesTheCompiledInDirectory) {
  const char* before = std::getenv("MAILWARDEN_CATALOG");
  const std::string saved = before ? before : "";
  ::setenv("MAILWARDEN_CATALOG", "/nonexistent/catalog", 1);
  EXPECT_EQ(catalog_dir(), fs::path("/nonexistent/catalog"));
  ::unsetenv("MAILWARDEN_CATALOG");
  EXPECT_FALSE(catalog_dir().empty()) << "the compiled-in default";
  if (before) ::setenv("MAILWARDEN_CATALOG", saved.c_str(), 1);
}

TEST(catalog_schema, ProductMustMatchTheFileName) {
  const fs::path dir =
      fs::temp_directory_path() / ("mw_catalog_schema_test." + std::to_string(::getpid()));
  fs::create_directories(dir / "ports");
  {
    std::ofstream out(dir / "ports" / "zimbra.toml");
    out << "product = \"exchange\"\ntitle = \"t\"\n\n[[port]]\nport = 25\nprotocol = \"tcp\"\n"
           "service = \"smtp\"\ndescription = \"d\"\nsingle = \"public\"\nsource = \"s\"\n";
  }
  const char* before = std::getenv("MAILWARDEN_CATALOG");
  const std::string saved = before ? before : "";
  ::setenv("MAILWARDEN_CATALOG", dir.c_str(), 1);
  auto cat = load_product_catalog("zimbra");
  if (before)
    ::setenv("MAILWARDEN_CATALOG", saved.c_str(), 1);
  else
    ::unsetenv("MAILWARDEN_CATALOG");
  fs::remove_all(dir);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.error().message.find("product: the file says 'exchange', expected 'zimbra'"),
            std::string::npos)
      << cat.error().message;
}

TEST(catalog_schema, OversizedFileIsRefusedBeforeParsing) {
  const fs::path file =
      fs::temp_directory_path() / ("mw_catalog_oversized." + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(file);
    out << "# " << std::string(1024 * 1024 + 10, 'x') << "\n";
  }
  auto cat = load_port_catalog(file);
  fs::remove(file);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.error().message.find("more than a catalog may hold"), std::string::npos)
      << cat.error().message;
}

}  // namespace
}  // namespace mw
