// applicationHost.config: the parser on every fixture of tests/data/iis and on malformed input
// (positions), IIS's merge of <ipSecurity> and <modules> along a path, and the exchange.*
// controls on every fixture, without and with the site policy of examples/exchange.toml.
#include "audit/iis.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "catalog/ports.hpp"
#include "firewall/plan.hpp"
#include "policy/policy.hpp"

namespace mw::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kData = std::string(MW_SOURCE_DIR) + "/tests/data/iis/";
constexpr const char* kEcp = "Default Web Site/ecp";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 1-based line of the first line of `text` containing `needle` (0 when absent).
std::size_t line_of(const std::string& text, std::string_view needle, std::size_t nth = 1) {
  std::size_t line = 1, start = 0, found = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (std::string_view(text).substr(start, end - start).find(needle) != std::string::npos &&
        ++found == nth) {
      return line;
    }
    ++line;
    start = end + 1;
  }
  return 0;
}

IisConfig fixture(const std::string& name) {
  auto c = parse_iis_config(read_text(kData + name), "applicationHost.config");
  EXPECT_TRUE(c.ok()) << name << ": " << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : IisConfig{};
}

IisEffective effective(const IisConfig& c, std::string_view path = kEcp) {
  auto e = effective_ip_security(c, path);
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? std::move(*e) : IisEffective{};
}

Address addr(const char* text) {
  auto a = parse_address(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : Address{};
}

// A small applicationHost.config: the declaration, one site with /ecp, the module, and the
// given server-level security and locations.
std::string config_with(const std::string& locations, const std::string& server_security = "",
                        const std::string& declaration = "Deny", bool module = true) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<configuration>\n"
      "  <configSections>\n"
      "    <sectionGroup name=\"system.webServer\">\n"
      "      <section name=\"modules\" overrideModeDefault=\"Deny\" />\n"
      "      <sectionGroup name=\"security\">\n"
      "        <section name=\"ipSecurity\" overrideModeDefault=\"" +
      declaration +
      "\" />\n"
      "      </sectionGroup>\n"
      "    </sectionGroup>\n"
      "  </configSections>\n"
      "  <system.applicationHost>\n"
      "    <sites>\n"
      "      <site name=\"Default Web Site\" id=\"1\">\n"
      "        <application path=\"/\" />\n"
      "        <application path=\"/ecp\" />\n"
      "        <bindings><binding protocol=\"https\" bindingInformation=\"*:443:\" /></bindings>\n"
      "      </site>\n"
      "    </sites>\n"
      "  </system.applicationHost>\n"
      "  <system.webServer>\n";
  if (module) {
    out +=
        "    <globalModules><add name=\"IpRestrictionModule\" "
        "image=\"%windir%\\System32\\inetsrv\\iprestr.dll\" /></globalModules>\n";
  }
  out += "    <security>" + server_security + "</security>\n  </system.webServer>\n";
  if (module) {
    out +=
        "  <location path=\"\" overrideMode=\"Allow\"><system.webServer><modules>"
        "<add name=\"IpRestrictionModule\" lockItem=\"true\" /></modules></system.webServer>"
        "</location>\n";
  }
  return out + locations + "</configuration>\n";
}

std::string location(const std::string& path, const std::string& security,
                     const std::string& attrs = "") {
  return "  <location path=\"" + path + "\"" + attrs + "><system.webServer><security>" + security +
         "</security></system.webServer></location>\n";
}

IisConfig parsed(const std::string& text) {
  auto c = parse_iis_config(text, "applicationHost.config");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : IisConfig{};
}

// ------------------------------------------------------------------------------- fixtures

const std::vector<std::string> kFixtures = {
    "restricted.config", "unrestricted.config",   "allow-all.config",  "ipv6-world.config",
    "lan-wide.config",   "module-missing.config", "proxy-mode.config", "locked.config",
    "unlocked.config",   "inherited.config",      "clear.config",      "subpath-open.config"};

TEST(IisFixtures, TheListIsComplete) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(kData)) {
    if (e.path().extension() == ".config") found.push_back(e.path().filename().string());
  }
  std::sort(found.begin(), found.end());
  auto listed = kFixtures;
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(found, listed);
}

TEST(IisFixtures, EveryOneParsesWithItsSites) {
  for (const auto& name : kFixtures) {
    SCOPED_TRACE(name);
    auto c = load_iis_config(kData + name);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->source, name);
    ASSERT_EQ(c->sites.size(), 2u);
    const IisSite* front = c->site("default web site");
    ASSERT_NE(front, nullptr);
    EXPECT_EQ(front->id, "1");
    ASSERT_EQ(front->bindings.size(), 2u);
    EXPECT_EQ(front->bindings[1].protocol, "https");
    EXPECT_EQ(front->bindings[1].information, "*:443:");
    EXPECT_THAT(front->applications, ::testing::Contains("/ecp"));
    const IisSite* back = c->site(kIisBackEndSite);
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->bindings[1].information, "*:444:");
    const std::string text = read_text(kData + name);
    EXPECT_EQ(front->line, line_of(text, "<site name=\"Default Web Site\""));
    const IisSectionDecl* d = c->section("system.webServer/security/ipSecurity");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->line, line_of(text, "<section name=\"ipSecurity\""));
  }
}

TEST(IisFixtures, RestrictedIsWhatTheIisBackendWrites) {
  const std::string text = read_text(kData + "restricted.config");
  const IisConfig c = fixture("restricted.config");
  EXPECT_EQ(c.restriction_module_line, line_of(text, "name=\"IpRestrictionModule\" image"));
  EXPECT_EQ(c.restriction_module_image, "%windir%\\system32\\inetsrv\\iprestr.dll");
  const IisEffective e = effective(c);
  EXPECT_EQ(e.path, kEcp);
  EXPECT_FALSE(e.allow_unlisted);
  EXPECT_EQ(e.allow_unlisted_line, line_of(text, "allowUnlisted=\"false\""));
  EXPECT_EQ(e.deny_action, "AbortRequest");
  EXPECT_FALSE(e.enable_proxy_mode);
  EXPECT_EQ(e.enable_proxy_mode_line, 0u);
  // The server level (allowUnlisted="true") first, then /ecp's location.
  EXPECT_THAT(e.elements, ElementsAre(line_of(text, "<ipSecurity allowUnlisted=\"true\""),
                                      line_of(text, "allowUnlisted=\"false\"")));
  ASSERT_EQ(e.entries.size(), 8u);
  EXPECT_EQ(e.entries[0].describe(), "127.0.0.0/8");
  EXPECT_EQ(e.entries[1].describe(), "::1/128");
  EXPECT_EQ(e.entries[7].describe(), "2001:db8:ad::/120");
  EXPECT_EQ(e.entries[7].line, line_of(text, "2001:db8:ad::"));
  for (const char* a : {"127.0.0.1", "::1", "192.0.2.21", "198.51.100.15", "2001:db8:ad::ff"}) {
    EXPECT_TRUE(e.allowed.contains(addr(a))) << a;
  }
  for (const char* a : {"198.51.100.16", "203.0.113.9", "2001:db8:ad::100", "::2"}) {
    EXPECT_FALSE(e.allowed.contains(addr(a))) << a;
  }
  EXPECT_TRUE(e.enforced());
  EXPECT_TRUE(e.module_entry_locked);
  EXPECT_EQ(e.lower_files, IisOverride::deny);
  EXPECT_THAT(e.lower_files_from, HasSubstr("overrideModeDefault=\"Deny\""));
  EXPECT_TRUE(e.locked());
  EXPECT_TRUE(e.notes.empty());
}

TEST(IisFixtures, UnrestrictedInheritsTheServerDefault) {
  const std::string text = read_text(kData + "unrestricted.config");
  const IisEffective e = effective(fixture("unrestricted.config"));
  EXPECT_TRUE(e.allow_unlisted);
  EXPECT_EQ(e.allow_unlisted_line, line_of(text, "<ipSecurity allowUnlisted=\"true\""));
  EXPECT_TRUE(e.entries.empty());
  EXPECT_TRUE(e.allowed.is_any(Family::v4));
  EXPECT_TRUE(e.allowed.is_any(Family::v6));
}

TEST(IisFixtures, WideEntriesAreNormalised) {
  const IisEffective e = effective(fixture("lan-wide.config"));
  std::vector<std::string> d;
  for (const auto& x : e.entries) d.push_back(x.describe());
  // 203.0.113.0 with a /23 mask: IIS compares under the mask, so the network is 203.0.112.0/23.
  EXPECT_THAT(d, ::testing::IsSupersetOf({"10.0.0.0/8", "203.0.112.0/23", "192.0.2.0/24",
                                          "2001:db8:1::/48", "2001:db8:2:3::/64"}));
  EXPECT_TRUE(e.allowed.contains(addr("203.0.112.1")));
}

TEST(IisFixtures, ModuleMissingIsNotEnforced) {
  const IisEffective e = effective(fixture("module-missing.config"));
  EXPECT_FALSE(e.allow_unlisted);
  EXPECT_FALSE(e.module_installed);
  EXPECT_FALSE(e.module_enabled);
  EXPECT_FALSE(e.enforced());
}

TEST(IisFixtures, LockedAndUnlocked) {
  const std::string text = read_text(kData + "locked.config");
  const IisConfig locked = fixture("locked.config");
  for (const char* p : {"Default Web Site", kEcp}) {
    const IisEffective e = effective(locked, p);
    EXPECT_EQ(e.lower_files, IisOverride::deny) << p;
    EXPECT_THAT(e.lower_files_from, HasSubstr("overrideMode=\"Deny\"")) << p;
  }
  EXPECT_THAT(effective(locked).lower_files_from,
              HasSubstr(":" + std::to_string(line_of(text,
                                                     "<location path=\"Default Web "
                                                     "Site/ecp\" overrideMode=\"Deny\""))));
  const IisConfig unlocked = fixture("unlocked.config");
  const IisEffective u = effective(unlocked);
  EXPECT_EQ(u.lower_files, IisOverride::allow);
  EXPECT_THAT(u.open_to_web_config,
              ElementsAre("allowUnlisted", "enableProxyMode", "add", "remove", "clear"));
  EXPECT_FALSE(u.locked());
  EXPECT_TRUE(u.module_enabled);
  // <location path="" overrideMode="Allow"> holds <modules>: only lockItem protects the entry.
  EXPECT_FALSE(u.module_entry_locked);
}

TEST(IisFixtures, InheritedAndCleared) {
  const IisEffective in = effective(fixture("inherited.config"));
  EXPECT_FALSE(in.allow_unlisted);  // from the site's location
  ASSERT_EQ(in.entries.size(), 9u);
  EXPECT_EQ(in.entries.back().describe(), "198.51.100.77/32");  // /ecp's own, after the site's
  EXPECT_TRUE(in.allowed.contains(addr("198.51.100.77")));
  const IisEffective cl = effective(fixture("clear.config"));
  EXPECT_FALSE(cl.allow_unlisted);
  EXPECT_EQ(cl.entries.size(), 8u);
  EXPECT_FALSE(cl.allowed.contains(addr("10.1.2.3")));
  ASSERT_EQ(cl.notes.size(), 1u);
  EXPECT_THAT(cl.notes[0], HasSubstr("<clear/>"));
  // The site itself keeps its entry.
  EXPECT_TRUE(
      effective(fixture("clear.config"), "Default Web Site").allowed.contains(addr("10.1.2.3")));
}

TEST(IisFixtures, SubPathsBelowEcp) {
  const IisConfig c = fixture("subpath-open.config");
  EXPECT_THAT(iis_paths_below(c, kEcp), ElementsAre("Default Web Site/ecp/DDI"));
  EXPECT_TRUE(effective(c, "Default Web Site/ecp/DDI").allow_unlisted);
  EXPECT_TRUE(iis_paths_below(fixture("restricted.config"), kEcp).empty());
}

// ------------------------------------------------------------------------ merge semantics

TEST(IisMerge, TheMostSpecificLevelWinsForAttributes) {
  const auto c = parsed(
      config_with(location("Default Web Site",
                           "<ipSecurity allowUnlisted=\"false\" enableProxyMode=\"true\" />") +
                      location("Default Web Site/ecp", "<ipSecurity denyAction=\"NotFound\" />"),
                  "<ipSecurity allowUnlisted=\"true\" denyAction=\"Unauthorized\" />"));
  const IisEffective e = effective(c);
  EXPECT_FALSE(e.allow_unlisted);
  EXPECT_TRUE(e.enable_proxy_mode);
  EXPECT_EQ(e.deny_action, "NotFound");
  EXPECT_EQ(e.elements.size(), 3u);
  // The site root: server level and the site's location only.
  const IisEffective site = effective(c, "Default Web Site");
  EXPECT_EQ(site.deny_action, "Unauthorized");
  // The server level alone.
  EXPECT_TRUE(effective(c, "").allow_unlisted);
}

TEST(IisMerge, PathsMatchBySegmentAndCaseInsensitively) {
  struct Case {
    const char* path;
    bool applies;
  };
  for (const Case& k : {Case{"default web site/ECP", true}, Case{"/Default Web Site/ecp/", true},
                        Case{"Default Web Site", true}, Case{"Default Web Site/ec", false},
                        Case{"Default Web Site/ecp2", false}, Case{"Other Site", false},
                        Case{"Default Web Site/ecp/sub", false}, Case{".", true}, Case{"", true}}) {
    SCOPED_TRACE(k.path);
    const auto c = parsed(config_with(location(k.path, "<ipSecurity allowUnlisted=\"false\" />")));
    EXPECT_EQ(!effective(c).allow_unlisted, k.applies);
  }
}

TEST(IisMerge, TheCollectionMergesDownTheHierarchy) {
  const std::string text = config_with(
      location("Default Web Site",
               "<ipSecurity allowUnlisted=\"false\"><add ipAddress=\"10.0.0.0\" "
               "subnetMask=\"255.0.0.0\" allowed=\"true\" /><add ipAddress=\"192.0.2.1\" "
               "allowed=\"true\" /></ipSecurity>") +
          location("Default Web Site/ecp",
                   "<ipSecurity><remove ipAddress=\"10.0.0.0\" subnetMask=\"255.0.0.0\" />"
                   "<add ipAddress=\"192.0.2.2\" allowed=\"true\" /></ipSecurity>"),
      "<ipSecurity><add ipAddress=\"127.0.0.1\" allowed=\"true\" /></ipSecurity>");
  const IisEffective e = effective(parsed(text));
  std::vector<std::string> d;
  for (const auto& x : e.entries) d.push_back(x.describe());
  EXPECT_THAT(d, ElementsAre("127.0.0.1/32", "192.0.2.1/32", "192.0.2.2/32"));
  EXPECT_FALSE(e.allowed.contains(addr("10.0.0.1")));
}

TEST(IisMerge, TheFirstMatchingEntryDecides) {
  // A deny before a wider allow keeps its addresses out; after it, it changes nothing.
  const auto c = parsed(config_with(location(
      "Default Web Site/ecp",
      "<ipSecurity allowUnlisted=\"false\"><add ipAddress=\"10.1.0.0\" subnetMask=\"16\" />"
      "<add ipAddress=\"10.0.0.0\" subnetMask=\"255.0.0.0\" allowed=\"true\" />"
      "<add ipAddress=\"10.2.0.0\" subnetMask=\"255.255.0.0\" /></ipSecurity>")));
  const IisEffective e = effective(c);
  EXPECT_FALSE(e.allowed.contains(addr("10.1.0.1")));
  EXPECT_TRUE(e.allowed.contains(addr("10.2.0.1")));
  EXPECT_TRUE(e.allowed.contains(addr("10.3.0.1")));
  // allowUnlisted="true" with deny entries: a blocklist, everything else gets in.
  const auto b = parsed(config_with(
      location("Default Web Site/ecp",
               "<ipSecurity><add ipAddress=\"0.0.0.0\" subnetMask=\"0.0.0.0\" /></ipSecurity>")));
  const IisEffective be = effective(b);
  EXPECT_FALSE(be.allowed.contains(addr("192.0.2.1")));
  EXPECT_TRUE(be.allowed.is_any(Family::v6));
}

TEST(IisMerge, ClearAndRemoveOnlyTouchWhatIsAbove) {
  const auto c = parsed(config_with(
      location("Default Web Site/ecp",
               "<ipSecurity allowUnlisted=\"false\"><remove ipAddress=\"192.0.2.9\" /><clear />"
               "<add ipAddress=\"192.0.2.1\" allowed=\"true\" /></ipSecurity>")));
  const IisEffective e = effective(c);
  ASSERT_EQ(e.entries.size(), 1u);
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_THAT(e.notes[0], HasSubstr("removes nothing"));
}

TEST(IisMerge, ADuplicateAcrossLevelsIsRefusedWithItsPosition) {
  const std::string text = config_with(
      location("Default Web Site/ecp",
               "<ipSecurity><add ipAddress=\"192.0.2.1\" subnetMask=\"255.255.255.255\" "
               "allowed=\"true\" /></ipSecurity>"),
      "<ipSecurity><add ipAddress=\"192.0.2.1\" /></ipSecurity>");
  auto e = effective_ip_security(parsed(text), kEcp);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.error().message,
              StartsWith("applicationHost.config:" +
                         std::to_string(line_of(text, "<location path=\"Default Web Site/ecp\""))));
  EXPECT_THAT(e.error().message, HasSubstr("duplicate of the entry added at line"));
}

TEST(IisMerge, InheritInChildApplicationsStopsAtTheEcpApplication) {
  const auto c =
      parsed(config_with(location("Default Web Site", "<ipSecurity allowUnlisted=\"false\" />",
                                  " inheritInChildApplications=\"false\"")));
  const IisEffective e = effective(c);
  EXPECT_TRUE(e.allow_unlisted);
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_THAT(e.notes[0], HasSubstr("inheritInChildApplications"));
  // A directory of the root application still inherits it.
  EXPECT_FALSE(effective(c, "Default Web Site/aspnet_client").allow_unlisted);
  EXPECT_FALSE(effective(c, "Default Web Site").allow_unlisted);
}

TEST(IisMerge, TheModuleIsEnabledAlongThePath) {
  const auto removed = parsed(config_with(
      "  <location path=\"Default Web Site/ecp\"><system.webServer><modules>"
      "<remove name=\"IpRestrictionModule\" /></modules></system.webServer></location>\n"));
  const IisEffective e = effective(removed);
  EXPECT_TRUE(e.module_installed);
  EXPECT_FALSE(e.module_enabled);
  EXPECT_FALSE(e.enforced());
  EXPECT_TRUE(effective(removed, "Default Web Site").module_enabled);
  const auto cleared = parsed(
      config_with("  <location path=\"Default Web Site\"><system.webServer><modules><clear />"
                  "</modules></system.webServer></location>\n"));
  EXPECT_FALSE(effective(cleared).module_enabled);
  EXPECT_FALSE(effective(parsed(config_with("", "", "Deny", false))).module_installed);
}

TEST(IisMerge, WhatTheWebConfigFilesMayChange) {
  struct Case {
    std::string locations;
    std::string declaration;
    bool locked;
  };
  const std::vector<Case> cases = {
      {"", "Deny", true},
      {"", "Allow", false},
      {location("Default Web Site/ecp", "<ipSecurity />", " overrideMode=\"Deny\""), "Allow", true},
      {location("Default Web Site/ecp", "<ipSecurity />", " allowOverride=\"false\""), "Allow",
       true},
      {location("Default Web Site/ecp", "<ipSecurity />", " overrideMode=\"Allow\""), "Deny",
       false},
      {location("Default Web Site", "<ipSecurity />", " allowOverride=\"true\""), "Deny", false},
      // A Deny above, an Allow closer: the closer wins.
      {location("Default Web Site", "<ipSecurity />", " overrideMode=\"Deny\"") +
           location("Default Web Site/ecp", "<ipSecurity />", " overrideMode=\"Allow\""),
       "Deny", false},
      // overrideMode of a location without the section does not count.
      {location("Default Web Site/ecp", "", " overrideMode=\"Deny\""), "Allow", false},
      {location("Default Web Site/ecp", "<ipSecurity lockItem=\"true\" />"), "Allow", true},
      {location("Default Web Site/ecp",
                "<ipSecurity lockAttributes=\"allowUnlisted, enableProxyMode\" "
                "lockElements=\"add,remove,clear\" />"),
       "Allow", true},
      {location("Default Web Site/ecp",
                "<ipSecurity lockAttributes=\"*\" lockAllElementsExcept=\"\" />"),
       "Allow", true},
      {location("Default Web Site/ecp", "<ipSecurity lockAttributes=\"allowUnlisted\" />"), "Allow",
       false},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.locations + " / overrideModeDefault=" + k.declaration);
    const IisEffective e = effective(parsed(config_with(k.locations, "", k.declaration)));
    EXPECT_EQ(e.locked(), k.locked) << e.lower_files_from;
    EXPECT_TRUE(e.section_declared);
  }
}

TEST(IisMerge, AConfigSourceMakesTheSectionUnreadable) {
  const auto c = parsed(config_with(
      location("Default Web Site/ecp", "<ipSecurity configSource=\"ecp-ipsec.config\" />")));
  EXPECT_THAT(effective(c).unreadable, HasSubstr("'ecp-ipsec.config' (configSource)"));
}

// ------------------------------------------------------------------------------- errors

struct BadCase {
  std::string text;
  std::string needle;   // the line the error must name
  std::string message;  // part of the message
  std::size_t nth = 1;  // which line holding the needle
};

TEST(IisErrors, NameFileLineAndColumn) {
  const std::string ecp = "Default Web Site/ecp";
  const std::vector<BadCase> cases = {
      {config_with("  <location\n path=x>\n</location>\n"), "path=x", "not well-formed XML"},
      {"<?xml version=\"1.0\"?>\n<confguration />\n", "<confguration", "not <configuration>"},
      {config_with(location(ecp, "<ipSecurity><add ipAddress=\"300.1.1.1\" /></ipSecurity>")),
       "300.1.1.1", "<add ipAddress=\"300.1.1.1\">"},
      {config_with(location(ecp, "<ipSecurity><add ipAddress=\"ecp.example.org\" /></ipSecurity>")),
       "ecp.example.org", "ipAddress"},
      {config_with(location(
           ecp,
           "<ipSecurity><add ipAddress=\"10.0.0.0\" subnetMask=\"255.0.255.0\" /></ipSecurity>")),
       "255.0.255.0", "not a contiguous mask"},
      {config_with(location(
           ecp, "<ipSecurity><add ipAddress=\"10.0.0.0\" subnetMask=\"33\" /></ipSecurity>")),
       "subnetMask=\"33\"", "a prefix length is 0 to 32"},
      {config_with(location(
           ecp, "<ipSecurity><add ipAddress=\"2001:db8::\" subnetMask=\"129\" /></ipSecurity>")),
       "subnetMask=\"129\"", "a prefix length is 0 to 128"},
      {config_with(location(ecp,
                            "<ipSecurity><add ipAddress=\"2001:db8::\" "
                            "subnetMask=\"255.255.0.0\" /></ipSecurity>")),
       "2001:db8::", "takes a prefix length"},
      {config_with(location(
           ecp, "<ipSecurity><add ipAddress=\"10.0.0.0\" subnetMask=\"mask\" /></ipSecurity>")),
       "subnetMask=\"mask\"", "not a dotted subnet mask"},
      {config_with(location(ecp, "<ipSecurity allowUnlisted=\"no\" />")), "allowUnlisted=\"no\"",
       "expected true or false"},
      {config_with(location(ecp, "<ipSecurity denyAction=\"Drop\" />")), "denyAction=\"Drop\"",
       "expected AbortRequest"},
      {config_with(location(ecp, "<ipSecurity allowUnListed=\"false\" />")), "allowUnListed",
       "unrecognized attribute 'allowUnListed'"},
      {config_with(location(ecp, "<ipSecurity><allow ipAddress=\"10.0.0.1\" /></ipSecurity>")),
       "<allow ", "unknown element <allow>"},
      {config_with(location(ecp, "<ipSecurity><add allowed=\"true\" /></ipSecurity>")),
       "<add allowed", "neither ipAddress nor domainName"},
      {config_with(location(ecp,
                            "<ipSecurity><add ipAddress=\"10.0.0.1\" />"
                            "<add ipAddress=\"10.0.0.1\" /></ipSecurity>")),
       "10.0.0.1", "duplicate entry"},
      {config_with(location(ecp, "<ipSecurity />") + location(ecp, "<ipSecurity />")),
       "<location path=\"Default Web Site/ecp\"", "already defined for path", 2},
      {config_with(location(".", "<ipSecurity />"), "<ipSecurity />"), "<location path=\".\"",
       "already defined for path"},
      {config_with(
           location(ecp, "<ipSecurity />", " overrideMode=\"Deny\" allowOverride=\"false\"")),
       "allowOverride", "both overrideMode and allowOverride"},
      {config_with(location(ecp, "<ipSecurity />", " overrideMode=\"Lock\"")), "Lock",
       "expected Allow, Deny or Inherit"},
      {config_with("  <location path=\"a\"><location path=\"b\" /></location>\n"),
       "<location path=\"a\"", "<location> inside <location>"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.message);
    auto r = parse_iis_config(k.text, "applicationHost.config");
    ASSERT_FALSE(r.ok());
    const std::size_t line = line_of(k.text, k.needle, k.nth);
    ASSERT_NE(line, 0u) << k.needle;
    EXPECT_THAT(r.error().message,
                StartsWith("applicationHost.config:" + std::to_string(line) + ":"));
    EXPECT_THAT(r.error().message, HasSubstr(k.message));
  }
}

TEST(IisErrors, ColumnsCountBytesFromTheLineStart) {
  const std::string text = "<configuration>\n  <location path=\"x\">\n</configuration>\n";
  auto r = parse_iis_config(text, "a.config");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith("a.config:3:3: not well-formed XML"));
  auto bad = parse_iis_config(
      "<configuration>\n<location path=\"x\"><system.webServer><security>\n"
      "    <ipSecurity denyAction=\"x\" /></security></system.webServer></location>\n"
      "</configuration>\n",
      "a.config");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, StartsWith("a.config:3:6: "));
}

TEST(IisErrors, CrLfAndByteOrderMarkKeepTheLines) {
  std::string text =
      "\xEF\xBB\xBF" + config_with(location(kEcp, "<ipSecurity allowUnlisted=\"false\" />"));
  std::string crlf;
  for (char ch : text) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  auto c = parse_iis_config(crlf, "applicationHost.config");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const IisEffective e = effective(*c);
  EXPECT_EQ(e.allow_unlisted_line, line_of(text, "allowUnlisted=\"false\""));
}

TEST(IisErrors, SizeAndEmptyInput) {
  auto big = parse_iis_config(std::string(kIisMaxBytes + 1, ' '), "big.config");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, StartsWith("big.config: "));
  auto empty = parse_iis_config("", "empty.config");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, StartsWith("empty.config:1:1: "));
  auto missing = load_iis_config(kData + "no-such.config");
  ASSERT_FALSE(missing.ok());
  // An entity IIS does not define stays text; no DTD is read.
  auto dtd = parse_iis_config(
      "<!DOCTYPE configuration [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
      "<configuration a=\"&e;\" />\n",
      "dtd.config");
  EXPECT_TRUE(dtd.ok());
}

// ------------------------------------------------------------------------------- checks

struct LoadedControls {
  std::vector<Control> all;
  std::string error;
};

const LoadedControls& controls() {
  static const LoadedControls c = [] {
    LoadedControls out;
    auto r = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
    if (r.ok()) {
      out.all = std::move(*r);
    } else {
      out.error = r.error().message;
    }
    return out;
  }();
  return c;
}

const Control& control(std::string_view id) {
  for (const auto& c : controls().all) {
    if (c.id == id) return c;
  }
  static const Control none;
  ADD_FAILURE() << "no control " << id << ": " << controls().error;
  return none;
}

const CustomChecks& checks() {
  static const CustomChecks all = builtin_checks();
  return all;
}

// The plan of ex1.example.com in examples/exchange.toml: admin 198.51.100.0/28 and
// 2001:db8:ad::/120, servers 192.0.2.21-22 and 2001:db8:e::21-22, a load balancer in front.
const FirewallPlan& policy_plan() {
  static const FirewallPlan plan = [] {
    auto catalog = load_product_catalog("exchange");
    EXPECT_TRUE(catalog.ok());
    const std::string path = std::string(MW_SOURCE_DIR) + "/examples/exchange.toml";
    auto policy = parse_policy(read_text(path), "examples/exchange.toml", *catalog);
    EXPECT_TRUE(policy.ok()) << (policy.ok() ? "" : policy.error().message);
    auto node = policy_for_node(*policy, "ex1.example.com");
    EXPECT_TRUE(node.ok());
    auto p = make_plan(*node, *catalog);
    EXPECT_TRUE(p.ok());
    return p.ok() ? std::move(*p) : FirewallPlan{};
  }();
  return plan;
}

Facts facts_of(const std::string& fixture_name, bool with_policy) {
  Facts f;
  f.iis = fixture(fixture_name);
  f.iis_file = "applicationHost.config";
  if (with_policy) f.site_plan = &policy_plan();
  return f;
}

ControlResult run(std::string_view id, const Facts& f) {
  return evaluate(control(id), f, checks());
}

constexpr const char* kIds[] = {"exchange.ecp-restricted", "exchange.ecp-not-world",
                                "exchange.ecp-allow-list", "exchange.ecp-proxy-mode",
                                "exchange.ecp-restriction-locked"};

struct Expected {
  std::string fixture;
  bool policy;
  std::vector<std::string> status;  // per kIds
};

TEST(IisChecks, EveryFixtureWithoutAndWithThePolicy) {
  ASSERT_TRUE(controls().error.empty()) << controls().error;
  const std::string P = "pass", F = "fail", NC = "not_checked", NA = "not_applicable";
  const std::vector<Expected> table = {
      {"restricted.config", false, {P, P, P, NC, P}},
      {"restricted.config", true, {P, P, P, F, P}},
      {"unrestricted.config", false, {F, F, NA, NC, P}},
      {"unrestricted.config", true, {F, F, NA, NA, P}},
      {"allow-all.config", false, {P, F, F, NC, P}},
      {"allow-all.config", true, {P, F, F, F, P}},
      {"ipv6-world.config", false, {P, F, F, NC, P}},
      {"lan-wide.config", false, {P, P, F, NC, P}},
      {"lan-wide.config", true, {P, P, F, F, P}},
      {"module-missing.config", false, {F, F, P, NC, P}},
      {"module-missing.config", true, {F, F, P, NA, P}},
      {"proxy-mode.config", false, {P, P, P, NC, P}},
      {"proxy-mode.config", true, {P, P, P, P, P}},
      {"locked.config", false, {P, P, P, NC, P}},
      {"unlocked.config", false, {P, P, P, NC, F}},
      {"inherited.config", false, {P, P, P, NC, P}},
      {"inherited.config", true, {P, P, F, F, P}},
      {"clear.config", false, {P, P, P, NC, P}},
      {"subpath-open.config", false, {F, F, P, NC, P}},
  };
  std::map<std::string, int> covered;
  for (const auto& row : table) {
    const Facts f = facts_of(row.fixture, row.policy);
    ++covered[row.fixture];
    for (std::size_t i = 0; i < std::size(kIds); ++i) {
      SCOPED_TRACE(row.fixture + (row.policy ? " with --policy: " : ": ") + kIds[i]);
      const ControlResult r = run(kIds[i], f);
      EXPECT_EQ(status_name(r.status), row.status[i]) << r.detail;
      EXPECT_FALSE(r.detail.empty());
      EXPECT_EQ(r.status == Status::fail, !r.failing.empty()) << r.detail;
      EXPECT_EQ(r.status == Status::fail, !r.remediation.empty()) << r.detail;
      for (const auto& fact : r.facts) {
        // Every origin names the file (with a line) or the policy.
        EXPECT_THAT(
            fact.origin,
            ::testing::AnyOf(StartsWith("applicationHost.config"), StartsWith("IIS default"),
                             StartsWith("<"), StartsWith("examples/exchange.toml"),
                             StartsWith("overrideMode"), HasSubstr("applicationHost.config")))
            << fact.name;
      }
    }
  }
  for (const auto& name : kFixtures) EXPECT_TRUE(covered.count(name)) << name << " is not tested";
}

TEST(IisChecks, NotCheckedAndNotApplicable) {
  // No configuration: not_checked, saying why (the loader's reason when it recorded one).
  Facts none;
  for (const char* id : kIds) {
    auto r = run(id, none);
    EXPECT_EQ(r.status, Status::not_checked) << id;
    EXPECT_THAT(r.detail, HasSubstr("--iis-config")) << id;
  }
  none.missing["iis"] = "applicationHost.config:3:1: not well-formed XML: ...";
  EXPECT_THAT(run(kIds[0], none).detail, HasSubstr("not well-formed"));

  // No such site, no /ecp, no sites at all.
  Facts f;
  f.iis = parsed(config_with(""));
  FirewallPlan other = policy_plan();
  other.iis_site = "Exchange Front";
  f.site_plan = &other;
  auto r = run("exchange.ecp-restricted", f);
  EXPECT_EQ(r.status, Status::not_applicable);
  EXPECT_THAT(r.detail, HasSubstr("no site 'Exchange Front'"));
  std::string no_ecp = config_with("");
  const std::string ecp_app = "<application path=\"/ecp\" />";
  no_ecp.replace(no_ecp.find(ecp_app), ecp_app.size(), "");
  f.iis = parsed(no_ecp);
  f.site_plan = nullptr;
  r = run("exchange.ecp-not-world", f);
  EXPECT_EQ(r.status, Status::not_applicable);
  EXPECT_THAT(r.detail, HasSubstr("no /ecp application"));
  f.iis = parsed("<configuration />");
  EXPECT_EQ(run("exchange.ecp-allow-list", f).status, Status::not_checked);

  // A duplicate across levels or a configSource: not_checked with the reason.
  f.iis = parsed(config_with(location(kEcp, "<ipSecurity configSource=\"x.config\" />")));
  r = run("exchange.ecp-restricted", f);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("configSource"));
}

TEST(IisChecks, RestrictedSaysWhy) {
  auto r = run("exchange.ecp-restricted", facts_of("unrestricted.config", false));
  EXPECT_EQ(r.failing, std::vector<std::string>{kEcp});
  EXPECT_THAT(r.detail, HasSubstr("allowUnlisted=\"true\" at applicationHost.config:"));
  r = run("exchange.ecp-restricted", facts_of("module-missing.config", false));
  EXPECT_THAT(r.detail, HasSubstr("not in <globalModules>"));
  r = run("exchange.ecp-restricted", facts_of("subpath-open.config", false));
  EXPECT_EQ(r.failing, std::vector<std::string>{"Default Web Site/ecp/DDI"});
  r = run("exchange.ecp-restricted", facts_of("restricted.config", false));
  EXPECT_THAT(r.detail, HasSubstr("8 allow entries; denyAction AbortRequest"));
  // The back-end site is reported, with its port.
  bool back = false;
  for (const auto& fact : r.facts) back = back || fact.value.find("*:444:") != std::string::npos;
  EXPECT_TRUE(back);
}

TEST(IisChecks, RemediationIsTheIisBackendScript) {
  // Without a policy: the config's own narrow entries, a warning to add the admin networks.
  auto r = run("exchange.ecp-not-world", facts_of("allow-all.config", false));
  EXPECT_THAT(r.failing, ElementsAre(::testing::StartsWith("0.0.0.0/0 (allowed at "
                                                           "applicationHost.config:")));
  EXPECT_THAT(r.remediation, HasSubstr("No --policy"));
  EXPECT_THAT(r.remediation, HasSubstr("drops the wide ones"));
  EXPECT_THAT(r.remediation, HasSubstr("(0.0.0.0/0). It knows neither your admin networks"));
  EXPECT_THAT(r.remediation, HasSubstr("$location = 'Default Web Site/ecp'"));
  EXPECT_THAT(r.remediation, HasSubstr("@{ ipAddress = '198.51.100.0'; subnetMask = "
                                       "'255.255.255.240' }  # admin network"));
  EXPECT_THAT(r.remediation, Not(HasSubstr("ipAddress = '0.0.0.0'")));
  EXPECT_THAT(r.remediation, HasSubstr("-Name 'allowUnlisted' -Value $false"));
  // With the policy: the policy's script, proxy mode on.
  r = run("exchange.ecp-restricted", facts_of("unrestricted.config", true));
  EXPECT_THAT(r.remediation, HasSubstr("examples/exchange.toml"));
  EXPECT_THAT(r.remediation, HasSubstr("@{ ipAddress = '192.0.2.21'; subnetMask = "
                                       "'255.255.255.255' }  # Exchange server"));
  EXPECT_THAT(r.remediation, HasSubstr("-Name 'enableProxyMode' -Value $true"));
  EXPECT_THAT(r.remediation, Not(HasSubstr("No --policy")));
  // IPv6: ::/0 is the world for IPv6 only.
  r = run("exchange.ecp-not-world", facts_of("ipv6-world.config", false));
  EXPECT_THAT(r.detail, HasSubstr("every IPv6 address"));
  EXPECT_THAT(r.detail, Not(HasSubstr("every IPv4 address")));
}

TEST(IisChecks, AllowListClassesEveryEntry) {
  auto r = run("exchange.ecp-allow-list", facts_of("lan-wide.config", false));
  EXPECT_THAT(r.failing, ElementsAre("10.0.0.0/8", "203.0.112.0/23", "2001:db8:1::/48"));
  EXPECT_THAT(r.detail, HasSubstr("10.0.0.0/8 (a whole private LAN, wider than a /24"));
  // With the policy, the narrow hosts it does not list are findings too.
  r = run("exchange.ecp-allow-list", facts_of("lan-wide.config", true));
  EXPECT_THAT(r.failing, ElementsAre("10.0.0.0/8", "203.0.112.0/23", "192.0.2.0/24",
                                     "2001:db8:1::/48", "2001:db8:2:3::/64"));
  r = run("exchange.ecp-allow-list", facts_of("restricted.config", true));
  ASSERT_EQ(r.facts.size(), 8u);
  EXPECT_EQ(r.facts[0].value, "127.0.0.0/8: loopback");
  EXPECT_EQ(r.facts[2].value, "192.0.2.21/32: an Exchange server of the policy");
  EXPECT_EQ(r.facts[6].value, "198.51.100.0/28: an admin network of the policy");
  const std::string text = read_text(kData + "restricted.config");
  EXPECT_EQ(r.facts[6].origin,
            "applicationHost.config:" + std::to_string(line_of(text, "198.51.100.0")));
  // A domain-name entry is a finding.
  Facts f;
  f.iis = parsed(
      config_with(location(kEcp,
                           "<ipSecurity allowUnlisted=\"false\"><add domainName=\"*.example.org\" "
                           "allowed=\"true\" /></ipSecurity>")));
  r = run("exchange.ecp-allow-list", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("reverse DNS"));
}

TEST(IisChecks, ProxyModeFollowsThePolicy) {
  auto r = run("exchange.ecp-proxy-mode", facts_of("restricted.config", false));
  EXPECT_THAT(r.detail, HasSubstr("--policy"));
  r = run("exchange.ecp-proxy-mode", facts_of("restricted.config", true));
  EXPECT_EQ(r.failing, std::vector<std::string>{kEcp});
  FirewallPlan no_balancer = policy_plan();
  no_balancer.iis_proxy_mode = false;
  Facts f = facts_of("proxy-mode.config", false);
  f.site_plan = &no_balancer;
  r = run("exchange.ecp-proxy-mode", f);
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_THAT(r.detail, HasSubstr("only adds refusals"));
}

TEST(IisChecks, LockedNamesThePathsAndTheModule) {
  auto r = run("exchange.ecp-restriction-locked", facts_of("unlocked.config", false));
  EXPECT_THAT(r.failing, ElementsAre("Default Web Site", kEcp, "IpRestrictionModule"));
  EXPECT_THAT(r.remediation,
              HasSubstr("lock config \"Default Web Site/ecp\" -section:system.webServer/security/"
                        "ipSecurity"));
  EXPECT_THAT(r.remediation, HasSubstr("lock config \"Default Web Site\" -section"));
  EXPECT_THAT(r.remediation, HasSubstr("add[@name='IpRestrictionModule']"));
  r = run("exchange.ecp-restriction-locked", facts_of("locked.config", false));
  EXPECT_THAT(r.detail, HasSubstr("overrideMode=\"Deny\""));
}

}  // namespace
}  // namespace mw::audit
