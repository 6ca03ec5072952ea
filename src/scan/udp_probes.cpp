// memcached and SNMP probes for the UDP scan; every read of an answer is checked against its
// length, since anything on the network (or in between) may have written it.
#include "scan/udp_probes.hpp"

#include <cstddef>

namespace mw::scan {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

std::uint16_t get16(std::span<const std::uint8_t> d, std::size_t at) {
  return static_cast<std::uint16_t>((d[at] << 8) | d[at + 1]);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A BER reader over one buffer: tag, definite length, contents; never reads past the end.
class Ber {
 public:
  explicit Ber(std::span<const std::uint8_t> d) : d_(d) {}

  struct Tlv {
    std::uint8_t tag = 0;
    std::span<const std::uint8_t> contents;
  };

  bool done() const { return pos_ == d_.size(); }

  std::optional<Tlv> next() {
    if (d_.size() - pos_ < 2) return std::nullopt;
    const std::uint8_t tag = d_[pos_];
    if ((tag & 0x1f) == 0x1f) return std::nullopt;  // multi-byte tags: not in SNMP's headers
    std::size_t at = pos_ + 1;
    std::size_t len = d_[at++];
    if (len & 0x80) {
      const std::size_t n = len & 0x7f;
      // 0x80 is the indefinite form (not allowed in SNMP); more than 4 length bytes cannot fit
      // in a datagram.
      if (n == 0 || n > 4 || d_.size() - at < n) return std::nullopt;
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | d_[at++];
    }
    if (d_.size() - at < len) return std::nullopt;
    pos_ = at + len;
    return Tlv{tag, d_.subspan(at, len)};
  }

 private:
  std::span<const std::uint8_t> d_;
  std::size_t pos_ = 0;
};

// A BER INTEGER of 1 to 8 bytes, two's complement.
std::optional<std::int64_t> ber_integer(const Ber::Tlv& t) {
  if (t.tag != 0x02 || t.contents.empty() || t.contents.size() > 8) return std::nullopt;
  std::uint64_t v = (t.contents[0] & 0x80) ? ~std::uint64_t{0} : 0;
  for (std::uint8_t b : t.contents) v = (v << 8) | b;
  return static_cast<std::int64_t>(v);
}

void put_tlv(std::vector<std::uint8_t>& out, std::uint8_t tag,
             const std::vector<std::uint8_t>& contents) {
  out.push_back(tag);
  if (contents.size() < 0x80) {
    out.push_back(static_cast<std::uint8_t>(contents.size()));
  } else {
    // Only a community string longer than ~100 bytes gets here.
    out.push_back(0x82);
    put16(out, static_cast<std::uint16_t>(contents.size()));
  }
  out.insert(out.end(), contents.begin(), contents.end());
}

std::vector<std::uint8_t> ber_int32(std::int32_t v) {
  // Four bytes always: simpler than the minimal form and still valid BER.
  const auto u = static_cast<std::uint32_t>(v);
  return {static_cast<std::uint8_t>(u >> 24), static_cast<std::uint8_t>(u >> 16),
          static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)};
}

}  // namespace

std::vector<std::uint8_t> memcached_stats_request(std::uint16_t request_id) {
  std::vector<std::uint8_t> out;
  put16(out, request_id);
  put16(out, 0);  // sequence number
  put16(out, 1);  // datagrams in this request
  put16(out, 0);  // reserved
  for (char c : std::string_view("stats\r\n")) out.push_back(static_cast<std::uint8_t>(c));
  return out;
}

std::optional<MemcachedAnswer> parse_memcached_answer(std::span<const std::uint8_t> d) {
  if (d.size() < 8) return std::nullopt;
  MemcachedAnswer a;
  a.request_id = get16(d, 0);
  a.sequence = get16(d, 2);
  a.total = get16(d, 4);
  if (get16(d, 6) != 0 || a.total == 0 || a.sequence >= a.total) return std::nullopt;
  a.payload = std::string_view(reinterpret_cast<const char*>(d.data() + 8), d.size() - 8);
  if (a.sequence == 0) {
    const std::string_view p = a.payload;
    if (!starts_with(p, "STAT ") && !starts_with(p, "END\r\n") && !starts_with(p, "ERROR") &&
        !starts_with(p, "CLIENT_ERROR ") && !starts_with(p, "SERVER_ERROR ")) {
      return std::nullopt;
    }
  }
  return a;
}

std::vector<std::uint8_t> snmp_get_sysdescr_request(std::int32_t request_id,
                                                    std::string_view community) {
  std::vector<std::uint8_t> varbind;
  put_tlv(varbind, 0x06, {0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00});  // sysDescr.0
  put_tlv(varbind, 0x05, {});                                                // NULL
  std::vector<std::uint8_t> varbinds;
  put_tlv(varbinds, 0x30, varbind);
  std::vector<std::uint8_t> pdu;
  put_tlv(pdu, 0x02, ber_int32(request_id));
  put_tlv(pdu, 0x02, {0x00});  // error-status
  put_tlv(pdu, 0x02, {0x00});  // error-index
  put_tlv(pdu, 0x30, varbinds);
  std::vector<std::uint8_t> message;
  put_tlv(message, 0x02, {0x01});  // version: 1 = v2c
  put_tlv(message, 0x04, std::vector<std::uint8_t>(community.begin(), community.end()));
  put_tlv(message, 0xa0, pdu);  // GetRequest
  std::vector<std::uint8_t> out;
  put_tlv(out, 0x30, message);
  return out;
}

std::optional<SnmpAnswer> parse_snmp_answer(std::span<const std::uint8_t> d) {
  Ber outer(d);
  auto msg = outer.next();
  if (!msg || msg->tag != 0x30 || !outer.done()) return std::nullopt;
  Ber fields(msg->contents);
  auto version_tlv = fields.next();
  if (!version_tlv) return std::nullopt;
  auto version = ber_integer(*version_tlv);
  if (!version || (*version != 0 && *version != 1 && *version != 3)) return std::nullopt;
  SnmpAnswer a;
  a.version = static_cast<int>(*version);
  if (a.version == 3) {
    // msgGlobalData SEQUENCE, msgSecurityParameters OCTET STRING, then the scoped PDU
    // (a SEQUENCE in clear, an OCTET STRING when encrypted).
    auto global = fields.next();
    auto security = fields.next();
    auto scoped = fields.next();
    if (!global || global->tag != 0x30 || !security || security->tag != 0x04 || !scoped ||
        (scoped->tag != 0x30 && scoped->tag != 0x04) || !fields.done()) {
      return std::nullopt;
    }
    a.pdu_type = scoped->tag;
    return a;
  }
  auto community = fields.next();
  auto pdu = fields.next();
  if (!community || community->tag != 0x04 || !pdu || !fields.done()) return std::nullopt;
  // Context-specific constructed tags 0-8: Get, GetNext, Response, Set, Trap v1, GetBulk,
  // Inform, Trap v2, Report.
  if (pdu->tag < 0xa0 || pdu->tag > 0xa8) return std::nullopt;
  a.pdu_type = pdu->tag;
  if (pdu->tag == 0xa4) return a;  // a v1 trap has no request id
  Ber pdu_fields(pdu->contents);
  auto id_tlv = pdu_fields.next();
  auto status_tlv = pdu_fields.next();
  if (!id_tlv || !status_tlv) return std::nullopt;
  auto id = ber_integer(*id_tlv);
  auto status = ber_integer(*status_tlv);
  if (!id || !status) return std::nullopt;
  a.request_id = *id;
  a.error_status = *status;
  return a;
}

}  // namespace mw::scan
