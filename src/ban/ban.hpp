// The ban engine: turns "ban this address for this reason" into an element of the kernel's
// ban sets (nft table inet mailwarden_ban, or ipsets behind iptables chain MAILWARDEN-BAN),
// refusing anything that touches the allow-list, and keeps the offence history (recidive) in
// a state file. Engines never print: results are values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/ip.hpp"
#include "core/result.hpp"
#include "core/subprocess.hpp"

namespace mw::ban {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

// ---- commands ------------------------------------------------------------------------------

// How the engine starts nft, iptables, ipset, ip and postconf: argv prefixed with `prefix` ("ip
// netns exec NS" in tests), so that the same code drives a namespace or the host.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual Result<CommandOutput> run(const std::vector<std::string>& argv,
                                    const std::string& stdin_data = {}) = 0;
};
class PrefixedRunner final : public CommandRunner {
 public:
  explicit PrefixedRunner(std::vector<std::string> prefix = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(20))
      : prefix_(std::move(prefix)), timeout_(timeout) {}
  Result<CommandOutput> run(const std::vector<std::string>& argv,
                            const std::string& stdin_data = {}) override;

 private:
  std::vector<std::string> prefix_;
  std::chrono::milliseconds timeout_;
};

// ---- durations and recidive (catalog/ban.toml) ---------------------------------------------

// "90s", "15m", "1h", "1d", "2w": one whole number and one unit of s, m, h, d, w; 1s..365d.
// Thin wrappers over core's mw::parse_duration / mw::format_duration (the one parser) with
// ban's syntax, so that --for, the catalog and `logs watch --ban` accept the same text.
Result<Seconds> parse_duration(std::string_view text);
std::string format_duration(Seconds s);  // the largest exact unit: "1h", "90s", "14d"

struct BanConfig {
  std::vector<Seconds> steps{Seconds(3600), Seconds(6 * 3600), Seconds(86400),
                             Seconds(7 * 86400)};   // by offence number, last one repeats
  Seconds window{30 * 86400};                       // offences older than this are forgotten
  int ipv6_prefix = 64;                             // IPv6 bans widen to this prefix
  Seconds duration_for(std::size_t offence) const;  // offence counts from 1
};
// The catalog's text; errors are "name:line:column: ...".
Result<BanConfig> parse_ban_config(std::string_view text, std::string_view name);
Result<BanConfig> load_ban_config(const std::filesystem::path& file);
// catalog/ban.toml of the installation ($MAILWARDEN_CATALOG or the built-in catalog dir).
std::filesystem::path default_ban_config_path();

// ---- the allow-list -----------------------------------------------------------------------

struct AllowEntry {
  Prefix prefix;
  std::string why;  // "loopback", "host address (eth0)", "admin network (site.toml)"...
};

struct AllowSources {
  bool host_addresses = true;                          // `ip -j addr` through the runner
  std::optional<std::string> policy_file;              // admin and cluster networks
  std::optional<std::vector<std::string>> mynetworks;  // given: used as is; absent: postconf
  std::string postconf = "postconf";                   // "" = do not ask Postfix
  std::vector<std::string> extra;                      // --allow
};

struct AllowList {
  std::vector<AllowEntry> entries;
  std::vector<std::string> notes;  // sources that were unavailable (no postconf...)
  // The first entry sharing any address with `p`.
  const AllowEntry* overlapping(const Prefix& p) const;
};

// Parses `ip -j addr` output: every local address as a host prefix, named by interface.
Result<std::vector<AllowEntry>> parse_ip_addr_json(std::string_view json);
// Parses Postfix's mynetworks value ("127.0.0.0/8 [::1]/128, 10.0.0.0/8"); table lookups
// ("hash:/etc/postfix/network_table") cannot be read here and are returned in *skipped.
Result<std::vector<Prefix>> parse_mynetworks(std::string_view value,
                                             std::vector<std::string>* skipped);

// The sources as every command's options name them (--policy, --mynetworks, --postconf,
// --allow; the host's addresses unless turned off): an empty option is not given.
AllowSources allow_sources(bool host_addresses, const std::string& policy,
                           const std::vector<std::string>& mynetworks, std::string postconf,
                           std::vector<std::string> allow);

Result<AllowList> build_allow_list(const AllowSources& sources, CommandRunner& runner);

// ---- the state file -------------------------------------------------------------------------

struct BanRecord {
  Prefix prefix;
  std::uint64_t offences = 0;        // all time
  std::vector<std::int64_t> recent;  // unix times of the offences within the window
  std::string reason;
  std::string account;
  std::int64_t first = 0, last = 0;  // unix times
  std::int64_t expires = 0;          // unix time the current ban ends (<= last if lifted)
};

struct BanState {
  std::vector<BanRecord> bans;
  // Bans refused by the allow-list since the state began counting them (absent in older
  // files: unknown, not zero). Bans added are the sum of the records' offences.
  std::optional<std::uint64_t> refused;
  BanRecord* find(const Prefix& p);
  std::uint64_t added() const;
};

// Strict: unknown keys, wrong types, bad prefixes, duplicates or a truncated file are errors
// naming `name` (and line:column for JSON syntax).
Result<BanState> parse_state(std::string_view text, std::string_view name);
std::string serialize_state(const BanState& state);
// An absent file is an empty state; a broken one is an error, never silently reset.
Result<BanState> load_state(const std::filesystem::path& file);
Status save_state(const std::filesystem::path& file, const BanState& state);

// ---- the kernel -----------------------------------------------------------------------------

// Which firewall holds the bans: nft (table inet mailwarden_ban), iptables + ipset (chain
// MAILWARDEN-BAN, sets mailwarden-ban4/6), or automatic: nft when `nft list tables` works,
// else iptables. The engine logic (allow-list, recidive, state) is the same for both.
enum class BackendChoice { nft, iptables, automatic };
Result<BackendChoice> parse_backend_choice(std::string_view text);  // "nft", "iptables", "auto"
std::string_view backend_choice_name(BackendChoice c);

// The iptables backend's programs (iptables-restore is the iptables name + "-restore", so
// that "iptables-legacy" selects "iptables-legacy-restore").
struct IptablesTools {
  std::string iptables = "iptables";
  std::string ip6tables = "ip6tables";
  std::string ipset = "ipset";
};

// One element of a ban set as the kernel lists it. nft gives the timeout the ban was set with
// and the time left; ipset only the time left (`expires`). No `expires`: permanent.
struct KernelBan {
  Prefix prefix;
  std::optional<Seconds> timeout, expires;
  std::string comment;
};

// ---- nft --------------------------------------------------------------------------------------

inline constexpr std::string_view kBanTable = "mailwarden_ban";

// The `nft -f` text that creates the table, sets and chain without touching existing elements.
std::string nft_ensure_script();
// "reason; account; offence N" with anything nft cannot quote replaced, at most 128 bytes.
std::string element_comment(std::string_view reason, std::string_view account,
                            std::uint64_t offence);
// `nft -j list set inet mailwarden_ban banN` -> elements.
Result<std::vector<KernelBan>> parse_nft_set_json(std::string_view json);

// ---- iptables + ipset -------------------------------------------------------------------------

inline constexpr std::string_view kBanChain = "MAILWARDEN-BAN";
inline constexpr std::string_view kIpsetBan4 = "mailwarden-ban4";
inline constexpr std::string_view kIpsetBan6 = "mailwarden-ban6";
// The kernel's largest ipset timeout ((UINT_MAX >> 1) / 1000 s, about 24.8 days): longer bans
// are capped to it, and the result says so.
inline constexpr Seconds kIpsetMaxTimeout{2147483};

// `ipset -exist restore` lines that create both sets (hash:net, timeout, comment) if absent.
std::string ipset_ensure_script();
// The rules of chain MAILWARDEN-BAN for one family, as `iptables -S` prints them: for IPv6
// the neighbour/router discovery RETURNs come before the drop.
std::vector<std::string> ban_chain_rules(Family f);
// Given `iptables -S` (filter table) output: the `iptables-restore --noflush` input that
// (re)writes MAILWARDEN-BAN and makes `-j MAILWARDEN-BAN` the first rule of INPUT, exactly
// once; "" when both are already right.
std::string iptables_fix_script(Family f, std::string_view listing);

// One set of `ipset save` output.
struct IpsetSet {
  std::string name, type;
  Family family = Family::v4;
  std::vector<KernelBan> members;
};
// Strict reader of `ipset save` (create and add lines of hash:net / hash:ip sets): unknown
// commands or options, malformed numbers, elements of the wrong family, duplicates or adds to
// a set not created first are errors "name:line:column: ...".
Result<std::vector<IpsetSet>> parse_ipset_save(std::string_view text, std::string_view name);

class BanBackend;  // src/ban/backend.hpp

// ---- the engine -----------------------------------------------------------------------------

struct BanRequest {
  Prefix prefix;                    // as given; IPv6 widened by the engine
  std::optional<Seconds> duration;  // --for; otherwise by recidive
  std::string reason = "manual";
  std::string account;
  bool dry_run = false;
};

enum class Outcome { banned, refused, already_covered, dry_run };
std::string_view outcome_name(Outcome o);

struct BanResult {
  Outcome outcome = Outcome::banned;
  Prefix prefix;  // what is (or would be) banned
  Seconds duration{0};
  std::uint64_t offence = 0;  // within the window, this one included
  std::string message;  // why refused / covered by what; the commands if dry run; a capped timeout
  std::vector<Prefix> replaced;  // narrower bans folded into this one
};

struct ListedBan {
  KernelBan kernel;
  std::optional<BanRecord> record;
};

struct EngineOptions {
  std::filesystem::path state_dir = "/var/lib/mailwarden";
  std::string nft = "nft";
  BanConfig config;
  BackendChoice backend = BackendChoice::nft;
  IptablesTools iptables;
};

class BanEngine {
 public:
  BanEngine(EngineOptions options, CommandRunner& runner, Clock& clock)
      : o_(std::move(options)), runner_(runner), clock_(clock) {}

  // "nft" or "iptables"; resolves `automatic` on first use (one `nft list tables`).
  Result<std::string> backend_name();

  std::filesystem::path state_file() const { return o_.state_dir / "bans.json"; }
  std::filesystem::path log_file() const { return o_.state_dir / "bans.log"; }

  // The prefix actually banned for `p`: IPv6 longer than config.ipv6_prefix is widened to it
  // (one host cannot rotate through its /64); IPv4 and wider IPv6 prefixes stay as given.
  Prefix effective_prefix(const Prefix& p) const;

  Result<BanResult> add(const BanRequest& request, const AllowList& allow);
  // Several bans at once, one result per request in order, decided exactly as one add() each
  // in turn, but written as one kernel transaction and one state save (a ban overlapping an
  // earlier one of the same call is written after it). `logs watch --ban` hands a burst of
  // findings over this way.
  std::vector<Result<BanResult>> add_all(const std::vector<BanRequest>& requests,
                                         const AllowList& allow);
  Status del(const Prefix& p);
  Result<std::vector<ListedBan>> list();
  Status flush();

 private:
  Result<BanBackend*> backend();
  void log_event(std::string_view what, const Prefix& p, std::string_view detail);
  void count_refusal();

  EngineOptions o_;
  CommandRunner& runner_;
  Clock& clock_;
  std::shared_ptr<BanBackend> backend_;  // made on first use; shared keeps the engine copyable
};

}  // namespace mw::ban
