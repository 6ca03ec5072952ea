// iis backend: the /ecp allow list, its three renderings (XML, PowerShell, appcmd) and README.
#include "firewall/iis_backend.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "firewall/backends.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

Prefix pfx(std::string_view text) {
  auto p = parse_prefix(text);
  EXPECT_TRUE(p.ok()) << text;
  return *p;
}

PortOpening opening(std::uint16_t port, Exposure e, std::string service) {
  return {Protocol::tcp, port, e, std::move(service), "test"};
}

FirewallPlan exchange_plan(bool proxy_mode) {
  FirewallPlan p;
  p.policy_source = "t.toml";
  p.product = "exchange";
  p.hostname = "ex1.example.com";
  p.topology = Topology::multi;
  p.roles = {"mailbox"};
  p.admin = AddressSet::of({pfx("198.51.100.0/28"), pfx("203.0.113.7"), pfx("2001:db8:ad::/120")});
  p.server_addresses = {pfx("192.0.2.21"), pfx("2001:db8:e::21"), pfx("192.0.2.22"),
                        pfx("2001:db8:e::22")};
  p.cluster = AddressSet::of(p.server_addresses);
  p.openings = {
      opening(443, Exposure::public_, "https"), opening(444, Exposure::cluster, "https-backend"),
      opening(3389, Exposure::admin, "rdp"), opening(5985, Exposure::admin, "winrm-http")};
  p.iis_site = "Default Web Site";
  p.iis_proxy_mode = proxy_mode;
  return p;
}

std::vector<Artefact> render_ok(const FirewallPlan& plan) {
  auto r = render_iis(plan);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<Artefact>{};
}

std::string content(const std::vector<Artefact>& artefacts, std::string_view name) {
  for (const auto& a : artefacts) {
    if (a.filename == name) return a.content;
  }
  ADD_FAILURE() << "no artefact " << name;
  return {};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

// The text with every run of blanks and line breaks as one space: README lines are wrapped.
std::string flat(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool blank = c == ' ' || c == '\n';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  return out;
}

// (ipAddress, subnetMask or "", allowed) of every <add> in document order.
using XmlEntry = std::tuple<std::string, std::string, std::string>;

struct ParsedXml {
  bool ok = false;
  std::string error;
  pugi::xml_document doc;
};

void parse_xml(const std::string& text, ParsedXml& out) {
  auto result = out.doc.load_string(text.c_str());
  out.ok = static_cast<bool>(result);
  out.error = result.description();
}

std::vector<XmlEntry> xml_entries(const pugi::xml_document& doc) {
  std::vector<XmlEntry> out;
  for (auto add : doc.child("location")
                      .child("system.webServer")
                      .child("security")
                      .child("ipSecurity")
                      .children("add")) {
    out.emplace_back(add.attribute("ipAddress").value(), add.attribute("subnetMask").value(),
                     add.attribute("allowed").value());
  }
  return out;
}

// IIS's spelling of a prefix, written out independently of the backend's own code.
XmlEntry expected_entry(std::string_view address, std::string_view mask) {
  return {std::string(address), std::string(mask), "true"};
}

// ---------------------------------------------------------------------------- IPv4 masks

TEST(IisIpv4Mask, EdgeCases) {
  EXPECT_EQ(iis::ipv4_mask(0), "0.0.0.0");
  EXPECT_EQ(iis::ipv4_mask(1), "128.0.0.0");
  EXPECT_EQ(iis::ipv4_mask(8), "255.0.0.0");
  EXPECT_EQ(iis::ipv4_mask(9), "255.128.0.0");
  EXPECT_EQ(iis::ipv4_mask(23), "255.255.254.0");
  EXPECT_EQ(iis::ipv4_mask(24), "255.255.255.0");
  EXPECT_EQ(iis::ipv4_mask(28), "255.255.255.240");
  EXPECT_EQ(iis::ipv4_mask(31), "255.255.255.254");
  EXPECT_EQ(iis::ipv4_mask(32), "255.255.255.255");
}

TEST(IisIpv4Mask, EveryLengthIsThatManyLeadingOnes) {
  for (int len = 0; len <= 32; ++len) {
    auto a = parse_address(iis::ipv4_mask(len));
    ASSERT_TRUE(a.ok()) << len;
    const std::uint64_t expected = (0xffffffffull << (32 - len)) & 0xffffffffull;
    EXPECT_EQ(static_cast<std::uint64_t>(a->value), expected) << "/" << len;
  }
}

// -------------------------------------------------------------------------- the plan's fit

TEST(IisBackend, RejectsNonExchangePlans) {
  for (std::string product : {"zimbra", "postfix-dovecot"}) {
    FirewallPlan p = exchange_plan(false);
    p.product = product;
    auto r = render_iis(p);
    ASSERT_FALSE(r.ok()) << product;
    EXPECT_TRUE(contains(r.error().message, "t.toml: --backend iis is for Exchange"))
        << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "'" + product + "'")) << r.error().message;
  }
}

TEST(IisBackend, RejectsASiteNameThatIsNotOne) {
  for (std::string site : {"", "Default\"Site", "a'b", "Site%windir%", "x\ny"}) {
    FirewallPlan p = exchange_plan(false);
    p.iis_site = site;
    auto r = render_iis(p);
    ASSERT_FALSE(r.ok()) << site;
    EXPECT_TRUE(contains(r.error().message, "t.toml: iis.site:")) << r.error().message;
  }
  EXPECT_TRUE(iis::is_site_name("Exchange Back End"));
  EXPECT_TRUE(iis::is_site_name("EAC_Secondary-2.internal"));
}

TEST(IisBackend, ProducesFourFixedArtefacts) {
  auto a = render_ok(exchange_plan(true));
  std::vector<std::string> names;
  for (const auto& x : a) names.push_back(x.filename);
  EXPECT_EQ(names, (std::vector<std::string>{"ecp-ipsecurity.xml", "ecp-ipsecurity.ps1",
                                             "ecp-ipsecurity.cmd", "README-ecp.txt"}));
  for (const auto& x : a) EXPECT_FALSE(x.description.empty()) << x.filename;
}

TEST(IisBackend, OutputIsDeterministic) {
  auto a = render_ok(exchange_plan(true));
  auto b = render_ok(exchange_plan(true));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].content, b[i].content);
}

// ------------------------------------------------------------------------- the allow list

TEST(IisAllowList, LoopbackFirstThenServersThenAdminWithoutDuplicates) {
  FirewallPlan p = exchange_plan(false);
  p.server_addresses.push_back(pfx("203.0.113.7"));  // also an admin address
  p.server_addresses.push_back(pfx("192.0.2.21"));   // listed twice
  p.server_addresses.push_back(pfx("127.0.0.0/8"));  // loopback again
  std::vector<std::string> got;
  for (const auto& e : iis::allow_entries(p)) got.push_back(to_string(e.prefix) + " " + e.why);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "127.0.0.0/8 loopback", "::1/128 loopback", "192.0.2.21/32 Exchange server",
                     "2001:db8:e::21/128 Exchange server", "192.0.2.22/32 Exchange server",
                     "2001:db8:e::22/128 Exchange server", "203.0.113.7/32 Exchange server",
                     "198.51.100.0/28 admin network", "2001:db8:ad::/120 admin network"}));
}

// --------------------------------------------------------------------- applicationHost XML

TEST(IisXml, IsWellFormedWithTheDocumentedStructure) {
  for (bool proxy : {false, true}) {
    auto a = render_ok(exchange_plan(proxy));
    ParsedXml x;
    parse_xml(content(a, "ecp-ipsecurity.xml"), x);
    ASSERT_TRUE(x.ok) << x.error;
    auto location = x.doc.child("location");
    EXPECT_STREQ(location.attribute("path").value(), "Default Web Site/ecp");
    auto ip = location.child("system.webServer").child("security").child("ipSecurity");
    ASSERT_TRUE(ip);
    EXPECT_STREQ(ip.attribute("allowUnlisted").value(), "false");
    EXPECT_STREQ(ip.attribute("denyAction").value(), "AbortRequest");
    EXPECT_STREQ(ip.attribute("enableProxyMode").value(), proxy ? "true" : "false");
    // One element at the top: the section pastes as a whole.
    int elements = 0;
    for (auto n : x.doc.children()) elements += n.type() == pugi::node_element ? 1 : 0;
    EXPECT_EQ(elements, 1);
  }
}

TEST(IisXml, EntriesAreLoopbackServersAndAdminInIisSpelling) {
  auto a = render_ok(exchange_plan(false));
  ParsedXml x;
  parse_xml(content(a, "ecp-ipsecurity.xml"), x);
  ASSERT_TRUE(x.ok) << x.error;
  EXPECT_EQ(xml_entries(x.doc), (std::vector<XmlEntry>{
                                    expected_entry("127.0.0.0", "255.0.0.0"),
                                    expected_entry("::1", ""),
                                    expected_entry("192.0.2.21", "255.255.255.255"),
                                    expected_entry("2001:db8:e::21", ""),
                                    expected_entry("192.0.2.22", "255.255.255.255"),
                                    expected_entry("2001:db8:e::22", ""),
                                    expected_entry("198.51.100.0", "255.255.255.240"),
                                    expected_entry("203.0.113.7", "255.255.255.255"),
                                    expected_entry("2001:db8:ad::", "120"),
                                }));
}

TEST(IisXml, LoopbackIsThereEvenWithoutAdminNetworksOrServerAddresses) {
  FirewallPlan p = exchange_plan(false);
  p.admin = AddressSet();
  p.server_addresses.clear();
  auto a = render_ok(p);
  ParsedXml x;
  parse_xml(content(a, "ecp-ipsecurity.xml"), x);
  ASSERT_TRUE(x.ok) << x.error;
  EXPECT_EQ(xml_entries(x.doc), (std::vector<XmlEntry>{expected_entry("127.0.0.0", "255.0.0.0"),
                                                       expected_entry("::1", "")}));
  const std::string readme = flat(content(a, "README-ecp.txt"));
  EXPECT_TRUE(contains(readme, "WARNING: the policy lists no admin networks")) << readme;
  EXPECT_TRUE(contains(readme, "WARNING: the policy gives no server addresses")) << readme;
}

TEST(IisXml, CommentsStayCommentsWhateverTheSourceName) {
  FirewallPlan p = exchange_plan(true);
  p.policy_source = "odd--name-\n<x>&.toml-";
  auto a = render_ok(p);
  const std::string xml = content(a, "ecp-ipsecurity.xml");
  ParsedXml x;
  parse_xml(xml, x);
  ASSERT_TRUE(x.ok) << x.error;
  // XML forbids "--" inside a comment and a comment ending in "-" (pugixml does not check).
  std::size_t pos = 0;
  int comments = 0;
  while ((pos = xml.find("<!--", pos)) != std::string::npos) {
    std::size_t end = xml.find("-->", pos + 4);
    ASSERT_NE(end, std::string::npos);
    std::string body = xml.substr(pos + 4, end - pos - 4);
    EXPECT_FALSE(contains(body, "--")) << body;
    EXPECT_NE(body.back(), '-') << body;
    pos = end + 3;
    ++comments;
  }
  EXPECT_GT(comments, 3);
  EXPECT_EQ(xml_entries(x.doc).size(), 9u);
}

// ------------------------------------------------------------------- PowerShell and appcmd

// The index of the first line containing `needle`, or -1.
int line_index(const std::vector<std::string>& lines, std::string_view needle) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}
int count_lines(const std::vector<std::string>& lines, std::string_view needle) {
  return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(needle) != std::string::npos;
  }));
}

TEST(IisPowerShell, AllowEntriesAndSettingsComeBeforeAllowUnlistedFalse) {
  auto a = render_ok(exchange_plan(true));
  auto lines = lines_of(content(a, "ecp-ipsecurity.ps1"));
  const std::string close = "-Name 'allowUnlisted' -Value $false";
  ASSERT_EQ(count_lines(lines, close), 1);
  const int last = line_index(lines, close);
  for (std::string_view before :
       {"Install-WindowsFeature -Name Web-IP-Security", "Backup-WebConfiguration",
        "Add-WebConfigurationProperty", "throw \"allow entry",
        "-Name 'denyAction' -Value "
        "'AbortRequest'",
        "-Name 'enableProxyMode' -Value $true"}) {
    const int at = line_index(lines, before);
    ASSERT_GE(at, 0) << before;
    EXPECT_LT(at, last) << before;
  }
  // Nothing sets allowUnlisted any other way, and the pool is recycled after it.
  EXPECT_EQ(count_lines(lines, "'allowUnlisted'"), 1);
  EXPECT_GT(line_index(lines, "Restart-WebAppPool -Name 'MSExchangeECPAppPool'"), last);
  EXPECT_EQ(line_index(lines, "$ErrorActionPreference = 'Stop'") >= 0, true);
  // Written at APPHOST with -Location: the section is locked at server level.
  for (const auto& l : lines) {
    if (l.find("WebConfigurationProperty") != std::string::npos && l.rfind("#", 0) != 0 &&
        l.find("function") == std::string::npos) {
      EXPECT_TRUE(contains(l, "-PSPath $psPath -Location $location -Filter $section")) << l;
    }
  }
  EXPECT_GE(line_index(lines, "$psPath = 'MACHINE/WEBROOT/APPHOST'"), 0);
  EXPECT_GE(line_index(lines, "$location = 'Default Web Site/ecp'"), 0);
  EXPECT_GE(line_index(lines, "$section = 'system.webServer/security/ipSecurity'"), 0);
}

TEST(IisPowerShell, ListsEveryEntryOfTheAllowList) {
  FirewallPlan p = exchange_plan(false);
  auto a = render_ok(p);
  const std::string ps = content(a, "ecp-ipsecurity.ps1");
  for (const auto& e : iis::allow_entries(p)) {
    std::string item = "@{ ipAddress = '" + e.ip_address + "'";
    if (!e.subnet_mask.empty()) item += "; subnetMask = '" + e.subnet_mask + "'";
    EXPECT_TRUE(contains(ps, item + " }")) << item;
  }
  EXPECT_TRUE(contains(ps, "@{ ipAddress = '127.0.0.0'; subnetMask = '255.0.0.0' }"));
  EXPECT_TRUE(contains(ps, "@{ ipAddress = '::1' }"));
  EXPECT_TRUE(contains(ps, "-Name 'enableProxyMode' -Value $false"));
  EXPECT_FALSE(contains(ps, "-Name 'enableProxyMode' -Value $true"));
}

TEST(IisPowerShell, HeaderCommentsCannotBeBrokenOutOf) {
  FirewallPlan p = exchange_plan(false);
  p.policy_source = "x.toml\nRemove-Item C:\\ -Recurse";
  auto lines = lines_of(content(render_ok(p), "ecp-ipsecurity.ps1"));
  const int requires_at = line_index(lines, "#Requires -RunAsAdministrator");
  ASSERT_GT(requires_at, 0);
  for (int i = 0; i < requires_at; ++i) EXPECT_EQ(lines[i].rfind("# ", 0), 0u) << lines[i];
}

TEST(IisAppcmd, AllowEntriesAndSettingsComeBeforeAllowUnlistedFalse) {
  FirewallPlan p = exchange_plan(true);
  auto lines = lines_of(content(render_ok(p), "ecp-ipsecurity.cmd"));
  const std::string prefix =
      "\"%windir%\\system32\\inetsrv\\appcmd.exe\" set config \"Default Web Site/ecp\" "
      "-section:system.webServer/security/ipSecurity ";
  ASSERT_EQ(count_lines(lines, "/allowUnlisted:"), 1);
  const int last = line_index(lines, prefix + "/allowUnlisted:false /commit:apphost || exit /b 1");
  ASSERT_GE(last, 0);
  EXPECT_EQ(count_lines(lines, "/+\"["), static_cast<int>(iis::allow_entries(p).size()));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (contains(lines[i], "/+\"[")) {
      EXPECT_LT(static_cast<int>(i), last) << lines[i];
      EXPECT_EQ(lines[i].rfind(prefix, 0), 0u) << lines[i];
      EXPECT_TRUE(contains(lines[i], "/commit:apphost || exit /b 1")) << lines[i];
    }
  }
  EXPECT_LT(line_index(lines, prefix + "/denyAction:AbortRequest /commit:apphost"), last);
  EXPECT_LT(line_index(lines, prefix + "/enableProxyMode:true /commit:apphost"), last);
  EXPECT_LT(line_index(lines, "Install-WindowsFeature -Name Web-IP-Security"), last);
  EXPECT_GT(line_index(lines, "recycle apppool /apppool.name:MSExchangeECPAppPool"), last);
}

TEST(IisAppcmd, ListsEveryEntryOfTheAllowList) {
  FirewallPlan p = exchange_plan(false);
  const std::string cmd = content(render_ok(p), "ecp-ipsecurity.cmd");
  for (const auto& e : iis::allow_entries(p)) {
    std::string item = "/+\"[ipAddress='" + e.ip_address + "'";
    if (!e.subnet_mask.empty()) item += ",subnetMask='" + e.subnet_mask + "'";
    EXPECT_TRUE(contains(cmd, item + ",allowed='True']\"")) << item;
  }
  EXPECT_TRUE(contains(cmd, "/+\"[ipAddress='127.0.0.0',subnetMask='255.0.0.0',allowed='True']\""));
  EXPECT_TRUE(contains(cmd, "/+\"[ipAddress='::1',allowed='True']\""));
  EXPECT_TRUE(contains(cmd, "/enableProxyMode:false /commit:apphost"));
}

TEST(IisAppcmd, CommentsCarryNoBatchMetacharacters) {
  FirewallPlan p = exchange_plan(false);
  p.policy_source = "%~dp0 & del x | y > z.toml";
  auto lines = lines_of(content(render_ok(p), "ecp-ipsecurity.cmd"));
  for (const auto& l : lines) {
    if (l.rfind("REM ", 0) != 0 && l.rfind("echo ", 0) != 0) continue;
    EXPECT_EQ(l.find_first_of("%&|<>^\"!"), std::string::npos) << l;
  }
}

// -------------------------------------------------------------------------- every address

TEST(IisBackend, EveryServerAddressAndAdminPrefixIsInAllThreeForms) {
  FirewallPlan p = exchange_plan(true);
  auto a = render_ok(p);
  ParsedXml x;
  parse_xml(content(a, "ecp-ipsecurity.xml"), x);
  ASSERT_TRUE(x.ok) << x.error;
  const auto xml = xml_entries(x.doc);
  const std::string ps = content(a, "ecp-ipsecurity.ps1");
  const std::string cmd = content(a, "ecp-ipsecurity.cmd");
  std::vector<Prefix> wanted = p.server_addresses;
  for (const auto& q : p.admin.to_prefixes()) wanted.push_back(q);
  for (const Prefix& q : wanted) {
    const std::string addr = to_string(q.addr);
    std::string mask;
    if (q.addr.family == Family::v4) {
      mask = iis::ipv4_mask(q.len);
    } else if (q.len != 128) {
      mask = std::to_string(q.len);
    }
    EXPECT_NE(std::find(xml.begin(), xml.end(), expected_entry(addr, mask)), xml.end()) << addr;
    EXPECT_TRUE(contains(ps, "ipAddress = '" + addr + "'")) << addr;
    EXPECT_TRUE(contains(cmd, "[ipAddress='" + addr + "'")) << addr;
  }
}

// ---------------------------------------------------------------------------------- README

TEST(IisReadme, CaveatsAndTheWindowsFirewallWorkLeft) {
  const std::string with_lb = flat(content(render_ok(exchange_plan(true)), "README-ecp.txt"));
  for (std::string_view s :
       {"Set-EcpVirtualDirectory", "-AdminEnabled", "Settings > Options", "X-Forwarded-For",
        "overwrite", "/ecp/healthcheck.htm", "IPv6", "Windows Firewall",
        "3389/tcp rdp, 5985/tcp winrm-http", "444/tcp https-backend", "443/tcp https",
        "Not covered", "Running on a real IIS"}) {
    EXPECT_TRUE(contains(with_lb, s)) << s;
  }
  const std::string direct = flat(content(render_ok(exchange_plan(false)), "README-ecp.txt"));
  EXPECT_TRUE(contains(direct, "enableProxyMode=false"));
  EXPECT_FALSE(contains(direct, "overwrite any value the client sent"));
}

TEST(IisQuoting, PowerShellXmlAndComments) {
  EXPECT_EQ(iis::ps_single_quoted("Default Web Site/ecp"), "'Default Web Site/ecp'");
  EXPECT_EQ(iis::ps_single_quoted("it's"), "'it''s'");
  EXPECT_EQ(iis::ps_single_quoted("it\xe2\x80\x99s"), "'it\xe2\x80\x99\xe2\x80\x99s'");
  EXPECT_EQ(iis::ps_single_quoted("$x `n"), "'$x `n'");  // nothing expands in '...'
  EXPECT_EQ(iis::ps_single_quoted("a\nb"), "'a?b'");
  EXPECT_EQ(iis::xml_escape("a&b<c>\"'"), "a&amp;b&lt;c&gt;&quot;&apos;");
  EXPECT_EQ(iis::xml_escape("a\x01z"), "a?z");
  for (std::string_view s : {"--", "---", "a--b", "x-", "--->"}) {
    std::string t = iis::xml_comment_text(s);
    EXPECT_EQ(t.find("--"), std::string::npos) << s << " -> " << t;
    EXPECT_NE(t.back(), '-') << s << " -> " << t;
  }
}

// ----------------------------------------------------------------- the shipped examples

TEST(IisExamples, EveryExchangeExampleRendersForEveryNode) {
  for (std::string example : {"exchange.toml", "exchange-single.toml"}) {
    auto loaded = load_policy(std::string(MW_SOURCE_DIR) + "/examples/" + example);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    std::vector<std::string> nodes = node_names(loaded->policy);
    if (nodes.empty()) nodes.push_back("");
    for (const auto& node : nodes) {
      auto site = policy_for_node(loaded->policy, node);
      ASSERT_TRUE(site.ok()) << site.error().message;
      auto plan = make_plan(*site, loaded->catalog);
      ASSERT_TRUE(plan.ok()) << plan.error().message;
      auto a = render_ok(*plan);
      ParsedXml x;
      parse_xml(content(a, "ecp-ipsecurity.xml"), x);
      ASSERT_TRUE(x.ok) << example << " " << node << ": " << x.error;
      // loopback, both families, then at least one server address and one admin network
      EXPECT_GE(xml_entries(x.doc).size(), 4u) << example;
      EXPECT_FALSE(plan->server_addresses.empty()) << example;
    }
  }
}

}  // namespace
}  // namespace mw
