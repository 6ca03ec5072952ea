// Removes secrets from a collected snapshot file before it is written, keeping its line
// structure so that the parsers still read it.
#pragma once

#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "audit/attrs.hpp"

namespace mw::audit {

// What a redacted value becomes.
inline constexpr std::string_view kRedacted = "<redacted by mailwarden>";

// zmprov attributes whose values are redacted. Derived from attrs.tsv (10.1.3) by taking every
// attribute whose name ends in Password, Key, Secret, Token(s), Credentials, Accessor,
// ScratchCodes or RecoveryCode, or contains BindPassword, and whose type can hold text
// (string, astring, ostring, binary), then reviewed one by one:
//  - kept: passwords and password hashes (userPassword, zimbraPasswordHistory, every
//    *BindPassword, data source / free-busy / share-notification / UC / APNS passwords,
//    app-specific passwords), symmetric keys that sign tokens (zimbraAuthTokenKey,
//    zimbraCsrfTokenKey, zimbraPreAuthKey, zimbraExternalAccountProvisioningKey,
//    zimbraTwoFactorAuthTrustedDeviceTokenKey, zimbraXMPPServerDialbackKey), private keys
//    (zimbraSSLPrivateKey, zimbraSslCaKey, zimbraCertAuthorityKeySelfSigned,
//    zimbraMobileConfigSigningKey), bearer tokens and client secrets (OAuth, JWT, GCM, Community
//    API, error-tracking keys, live auth tokens, CSRF token data, 2FA secrets and scratch codes,
//    password recovery codes, offline browser keys), and zimbraMtaSmtpSaslPasswordMaps (its value
//    may be an inline:{ host=user:password } table).
//  - left out on purpose: public material (zimbraSshPublicKey, certificates), paths
//    (zimbraRemoteManagementPrivateKeyPath, *Keytab), policy numbers and flags
//    (zimbraPassword*Min*, *Enabled, *Lifetime, zimbraAuthTokenValidityValue), enum settings
//    (zimbraGalTokenize*Key), message-catalog keys (zimbraDomainAggrQuotaWarnMsg*Key), URLs
//    (zimbraChangePasswordURL, zimbraDataSourceOAuthRefreshTokenUrl), and
//    zimbraMobileSyncKeyFormatConvertedFolders (folder ids).
// Attributes unknown to the table whose names end in Password, Secret or Key, or contain
// BindPassword, are redacted too (see zmprov_attr_is_secret).
inline constexpr std::array<std::string_view, 41> kSecretZmprovAttrs = {
    "userPassword",
    "zimbraAPNSCertificatePassword",
    "zimbraAppSpecificPassword",
    "zimbraAuthLdapSearchBindPassword",
    "zimbraAuthTokenKey",
    "zimbraAuthTokens",
    "zimbraAutoProvLdapAdminBindPassword",
    "zimbraCertAuthorityKeySelfSigned",
    "zimbraCommunityAPIClientSecret",
    "zimbraCsrfTokenData",
    "zimbraCsrfTokenKey",
    "zimbraDataSourceOAuthClientSecret",
    "zimbraDataSourceOAuthRefreshToken",
    "zimbraDataSourceOAuthToken",
    "zimbraDataSourcePassword",
    "zimbraDataSourceSmtpAuthPassword",
    "zimbraDocumentEditingJwtSecret",
    "zimbraExternalAccountProvisioningKey",
    "zimbraFreebusyExchangeAuthPassword",
    "zimbraGalLdapBindPassword",
    "zimbraGalSyncLdapBindPassword",
    "zimbraGCMAuthorizationKey",
    "zimbraInvalidJWTokens",
    "zimbraMobileConfigSigningKey",
    "zimbraMtaSmtpSaslPasswordMaps",
    "zimbraOAuthAccessor",
    "zimbraOAuthConsumerCredentials",
    "zimbraPasswordHistory",
    "zimbraPreAuthKey",
    "zimbraPrefWebClientOfflineBrowserKey",
    "zimbraResetPasswordRecoveryCode",
    "zimbraShareNotificationMtaAuthPassword",
    "zimbraSMIMELdapBindPassword",
    "zimbraSslCaKey",
    "zimbraSSLPrivateKey",
    "zimbraTouchJSErrorTrackingKey",
    "zimbraTwoFactorAuthScratchCodes",
    "zimbraTwoFactorAuthSecret",
    "zimbraTwoFactorAuthTrustedDeviceTokenKey",
    "zimbraUCPassword",
    "zimbraXMPPServerDialbackKey",
};

// Postfix parameters (main.cf, postconf -n/-d/-P, master.cf -o, and the ldap/mysql/pgsql table
// files that use the same syntax) that hold credentials: bind_pw and password (table files),
// and *_password_maps / *_passwd_maps, whose value may be an inline:{...} or static: table with
// user:password pairs. Paths such as "lmdb:/etc/postfix/sasl_passwd" are redacted too: the
// cost is one lost path, the gain no special cases.
bool postconf_param_is_secret(std::string_view name);

// The tables the rules come from. Without them (nullptr) only the name rules apply.
struct RedactionRules {
  const AttrTable* attrs = nullptr;
  const LocalconfigKeyTable* localconfig_keys = nullptr;
};

// True for kSecretZmprovAttrs and, for attributes not in the table, for names ending in
// Password, Secret or Key or containing BindPassword (case-insensitive).
bool zmprov_attr_is_secret(std::string_view attr, const RedactionRules& rules);
// True for keys whose `secret` or `masked_without_s` column is yes, and for any key (listed or
// not) whose name contains "password", "passwd" or "secret", or ends in "_key" (extension keys
// of NE backup and the like are not in the table).
bool localconfig_key_is_secret(std::string_view key, const RedactionRules& rules);

struct Redacted {
  std::string text;        // same number of lines as the input, same line endings
  std::size_t values = 0;  // values redacted
};

// Per format. Each replaces the value of a secret by kRedacted and every further line of a
// multi-line value (a PEM private key, wrapped base64) by kRedacted, so line numbers do not
// move. A base64 secret "name:: ..." becomes "name: <redacted by mailwarden>" so that it stays
// parseable. Nothing else changes, byte for byte.
Redacted redact_zmprov(std::string_view text, const RedactionRules& rules);
Redacted redact_localconfig(std::string_view text, const RedactionRules& rules);
Redacted redact_postconf(std::string_view text);   // main.cf style and postconf -P
Redacted redact_master_cf(std::string_view text);  // -o name=value of secret parameters

// Chooses by the snapshot file name (see examples/snapshots/*/README.md): zmprov-*.txt,
// zmlocalconfig*.txt, postconf-M*/master.cf (master format), postconf-*.txt/main.cf
// (postconf format). Anything else (sshd, ss, dpkg, iptables, ...) holds no secret we know of
// and is returned unchanged.
Redacted redact_snapshot_file(std::string_view file_name, std::string_view text,
                              const RedactionRules& rules);

}  // namespace mw::audit
