// A small Zimbra-like port catalog built in code, so that policy and plan unit tests do not
// depend on the shipped catalog files (which have their own tests).
#pragma once

#include "catalog/ports.hpp"

namespace mw::test {

inline PortFact fact(std::uint16_t port, Protocol proto, std::string service,
                     std::optional<Exposure> single, std::map<std::string, Exposure> multi,
                     std::string feature = "", bool never_public = false) {
  PortFact f;
  f.port = port;
  f.protocol = proto;
  f.service = std::move(service);
  f.description = f.service;
  f.single = single;
  f.multi = std::move(multi);
  f.feature = std::move(feature);
  f.never_public = never_public;
  f.source = "test catalog";
  f.location = "test.toml:" + std::to_string(port);
  return f;
}

inline PortCatalog small_zimbra_catalog() {
  using E = Exposure;
  using P = Protocol;
  PortCatalog c;
  c.product = "zimbra";
  c.title = "test";
  c.roles = {"mta", "proxy", "mailbox", "ldap"};
  c.features = {"imap", "pop", "chat", "admin-console-direct", "admin-console-proxy"};
  c.location = "test.toml";
  c.ports = {
      fact(22, P::tcp, "ssh", E::admin,
           {{"mta", E::admin}, {"proxy", E::admin}, {"mailbox", E::admin}, {"ldap", E::admin}}),
      fact(25, P::tcp, "smtp", E::public_, {{"mta", E::public_}}),
      fact(110, P::tcp, "pop3", E::public_, {{"proxy", E::public_}}, "pop"),
      fact(143, P::tcp, "imap", E::public_, {{"proxy", E::public_}}, "imap"),
      fact(389, P::tcp, "ldap", E::loopback, {{"ldap", E::cluster}}),
      fact(443, P::tcp, "https", E::public_, {{"proxy", E::public_}}),
      fact(5222, P::tcp, "xmpp", E::public_, {{"proxy", E::public_}}, "chat"),
      fact(7025, P::tcp, "lmtp", E::loopback, {{"mailbox", E::cluster}}),
      fact(7071, P::tcp, "admin-console", E::admin, {{"mailbox", E::admin}},
           "admin-console-direct"),
      fact(8443, P::tcp, "https-backend", E::loopback, {{"mailbox", E::cluster}}),
      fact(9071, P::tcp, "admin-console-proxy", E::admin, {{"proxy", E::admin}},
           "admin-console-proxy"),
      fact(11211, P::tcp, "memcached", E::loopback, {{"proxy", E::cluster}}),
      fact(11211, P::udp, "memcached-udp", E::loopback, {}, "", true),
  };
  return c;
}

}  // namespace mw::test
