// Where a client address is: its country and, when the database has them, its coordinates.
// Reads any MaxMind DB (libmaxminddb) that has a country: MaxMind's layout (country.iso_code,
// registered_country.iso_code, location.latitude/longitude) or the flat layout of the
// ip-location-db packages (country_code, latitude, longitude). Several files may be given
// (ip-location-db ships IPv4 and IPv6 in separate files): the first that knows the address
// answers.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::logs {

struct GeoLocation {
  std::string country;  // ISO 3166-1 alpha-2, upper case ("DE")
  bool has_coordinates = false;
  double latitude = 0, longitude = 0;
};

class GeoIp {
 public:
  // Opens every file; an error names the file and libmaxminddb's reason.
  static Result<std::unique_ptr<GeoIp>> open(const std::vector<std::filesystem::path>& files);
  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  // nullopt: not an address, or no database knows it (private, documentation ranges of a
  // real database). The text is one address exactly, as inet_pton reads it: no brackets, port
  // or zone. IPv4-mapped IPv6 addresses are looked up as IPv4, so IPv4-only files find them.
  // A record without a country code does not answer: the next file is asked. Thread-safe.
  std::optional<GeoLocation> lookup(std::string_view address_text) const;
  // True when some database holds coordinates (else impossible travel falls back to countries):
  // its metadata database_type contains "city" in any case ("GeoLite2-City", ip-location-db's
  // "city ipv4"), or one of its first data records (a bounded walk of the tree) has them.
  bool has_coordinates() const;

 private:
  struct Impl;
  explicit GeoIp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Great-circle distance (haversine, mean Earth radius 6371.0088 km).
double distance_km(double lat1, double lon1, double lat2, double lon2);

}  // namespace mw::logs
