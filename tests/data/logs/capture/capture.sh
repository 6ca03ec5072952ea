#!/bin/bash
# Captures real Postfix + Dovecot SASL log lines from a private, loopback-only mail system.
#
# A developer's fixture tool, not a test: it starts a throw-away Postfix instance (its own
# config, queue and data directories under a temp dir, logging through postlogd to a file),
# a Dovecot that runs only its auth service, and four smtp-sink "remote MXs", all on
# 127.0.0.1 high ports; sends the scenarios of README.md with swaks (about 2 minutes, most
# of it waiting out Dovecot's auth penalty); stops everything and copies the logs to
# tests/data/logs/capture/postfix-<major.minor>-dovecot/.
# Nothing is ever sent anywhere but 127.0.0.1: every domain without a transport entry goes to
# an error: transport. Run as root (Postfix and Dovecot master processes need it).
#
# Usage: capture.sh [-o OUTPUT_DIR] [-k]
#   -o DIR  write mail.log, dovecot.log, scenarios.txt and versions.txt there
#           (default: postfix-<major.minor>-dovecot next to this script)
#   -k      keep the temp dir (for debugging; daemons are stopped anyway)
set -Eeuo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=
KEEP=0
while getopts 'o:kh' opt; do
    case $opt in
        o) OUT=$OPTARG ;;
        k) KEEP=1 ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done

die() { echo "capture.sh: $*" >&2; exit 1; }
say() { echo "capture.sh: $*" >&2; }

# --- prerequisites ---------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "must run as root (postfix and dovecot masters start as root)"
missing=()
for pkg in postfix dovecot-core swaks; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    cat >&2 <<EOF
capture.sh: missing packages: ${missing[*]}
Install them without letting the packages' postinst scripts start system daemons:

  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  # only if /usr/sbin/policy-rc.d does not exist yet (Docker images ship one):
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}
  rm /usr/sbin/policy-rc.d   # only if you created it above

(policy-rc.d exiting 101 makes invoke-rc.d refuse "start" in the postinst scripts.)
EOF
    exit 1
fi
for cmd in postfix postconf postsuper smtp-sink dovecot doveconf swaks; do
    command -v "$cmd" >/dev/null || die "$cmd not found in PATH"
done
id postfix >/dev/null 2>&1 && getent group postdrop >/dev/null || die "user postfix / group postdrop missing"
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || die "users dovecot / dovenull missing"

PF_VERSION=$(postconf -dh mail_version)
DC_VERSION=$(dovecot --version)
SWAKS_VERSION=$(swaks --version 2>/dev/null | sed -n 's/^swaks version //p')
PF_SERIES=$(echo "$PF_VERSION" | cut -d. -f1,2)
[ -n "$OUT" ] || OUT="$HERE/postfix-$PF_SERIES-dovecot"

# Ports: all on 127.0.0.1. Refuse to start if one is taken, so we never talk to a stranger.
P_SMTP=10025 P_SUBMISSION=10587 P_REINJECT=10026
P_SINK_OK=10030 P_SINK_SOFT=10031 P_SINK_HARD=10032 P_SINK_SILENT=10033 P_CLOSED=10099
for p in $P_SMTP $P_SUBMISSION $P_REINJECT $P_SINK_OK $P_SINK_SOFT $P_SINK_HARD $P_SINK_SILENT $P_CLOSED; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "127.0.0.1:$p is in use"; fi
done

# --- temp dir and cleanup --------------------------------------------------------------
TMP=$(mktemp -d /tmp/mailwarden-capture.XXXXXX)
chmod 755 "$TMP"   # postfix and dovecot drop privileges and must traverse it
CONF=$TMP/postfix-etc SPOOL=$TMP/postfix-spool DATA=$TMP/postfix-data VMAIL=$TMP/vmail
DCDIR=$TMP/dovecot LOGDIR=$TMP/log
SINK_PIDS=()
POSTFIX_STARTED=0

stop_all() {
    set +e
    if [ "$POSTFIX_STARTED" = 1 ]; then
        postfix -c "$CONF" stop >/dev/null 2>&1
        for _ in $(seq 50); do
            [ -f "$SPOOL/pid/master.pid" ] && kill -0 "$(tr -dc 0-9 < "$SPOOL/pid/master.pid")" 2>/dev/null || break
            sleep 0.2
        done
        POSTFIX_STARTED=0
    fi
    if [ -f "$DCDIR/run/master.pid" ]; then
        local dpid
        dpid=$(cat "$DCDIR/run/master.pid")
        kill "$dpid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.2; done
        rm -f "$DCDIR/run/master.pid"
    fi
    for pid in "${SINK_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    SINK_PIDS=()
    set -e
}
cleanup() {
    local rc=$?
    stop_all
    if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CONF" "$SPOOL" "$DATA" "$VMAIL" "$DCDIR" "$LOGDIR"
chown nobody:nogroup "$VMAIL"
chown postfix:root "$DATA" && chmod 700 "$DATA"

# --- Postfix configuration -------------------------------------------------------------
cat > "$CONF/main.cf" <<EOF
# Private capture instance: loopback only, nothing leaves the machine.
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $DATA
mail_owner = postfix
setgid_group = postdrop

# Logging through postlogd(8) to a file (no syslog daemon here). Paths outside /var need
# maillog_file_prefixes.
maillog_file = $LOGDIR/mail.log
maillog_file_prefixes = $LOGDIR

myhostname = mail.example.org
mydomain = example.org
myorigin = \$mydomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8

# No local(8) delivery (no /etc/aliases, no /var/mail): example.org is a virtual mailbox
# domain stored under the temp dir.
mydestination =
local_transport = error:local delivery disabled in capture
alias_maps =
alias_database =
virtual_mailbox_domains = example.org
virtual_mailbox_maps = texthash:$CONF/vmailbox
virtual_mailbox_base = $VMAIL
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534

# Every destination is listed in the transport map; anything else fails at once.
transport_maps = texthash:$CONF/transport
default_transport = error:outbound delivery disabled in capture
relay_transport = error:relay disabled in capture
relayhost =

# Amavis-style filter, as on Zimbra: every message received goes to the filter next hop,
# which here is the re-injection smtpd itself (port $P_REINJECT, -o content_filter=).
content_filter = smtp-amavis:[127.0.0.1]:$P_REINJECT

# Port $P_SMTP (MX role): no relaying for anyone unauthenticated, loopback included.
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_banner = \$myhostname ESMTP \$mail_name
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtp_tls_security_level = none

# Short timeouts so that the deferred cases resolve within seconds; the retry timers keep
# their defaults (300s), so each deferred message is tried exactly once during a capture.
smtp_connect_timeout = 5s
smtp_helo_timeout = 5s
smtp_host_lookup = native
smtpd_error_sleep_time = 0s
biff = no
append_dot_mydomain = no
EOF

cat > "$CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_SMTP inet n - n - - smtpd
127.0.0.1:$P_SUBMISSION inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
# Re-injection port of the filter (Zimbra names its amavis re-injection smtpd the same way).
127.0.0.1:$P_REINJECT inet n - n - - smtpd
  -o syslog_name=postfix/amavisd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=
  -o smtpd_sasl_auth_enable=no
  -o mynetworks=127.0.0.0/8
smtp-amavis unix - - n - 2 smtp
  -o smtp_data_done_timeout=1200
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

cat > "$CONF/transport" <<EOF
example.com       smtp:[127.0.0.1]:$P_SINK_OK
soft.example.com  smtp:[127.0.0.1]:$P_SINK_SOFT
hard.example.com  smtp:[127.0.0.1]:$P_SINK_HARD
slow.example.com  smtp:[127.0.0.1]:$P_SINK_SILENT
down.example.com  smtp:[127.0.0.1]:$P_CLOSED
example.net       discard:example.net sink
EOF

cat > "$CONF/vmailbox" <<EOF
alice@example.org  example.org/alice/
bob@example.org    example.org/bob/
EOF

# --- Dovecot: auth service only --------------------------------------------------------
mkdir -p "$DCDIR/state"
cat > "$DCDIR/users" <<EOF
alice@example.org:{PLAIN}alice-capture-password
bob@example.org:{PLAIN}bob-capture-password
EOF
chown root:dovecot "$DCDIR/users"
chmod 640 "$DCDIR/users"
cat > "$DCDIR/dovecot.conf" <<EOF
# Private Dovecot for the capture: no protocols, only auth (SASL for Postfix).
instance_name = mailwarden-capture
base_dir = $DCDIR/run
state_dir = $DCDIR/state
protocols =
listen = 127.0.0.1
ssl = no
log_path = $LOGDIR/dovecot.log
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DCDIR/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $SPOOL/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
doveconf -c "$DCDIR/dovecot.conf" -n >/dev/null || die "dovecot configuration rejected"

# --- start -----------------------------------------------------------------------------
# postfix check creates the queue directories (private/ must exist for Dovecot's socket).
postfix -c "$CONF" check
dovecot -c "$DCDIR/dovecot.conf"
for _ in $(seq 50); do [ -S "$SPOOL/private/auth" ] && break; sleep 0.2; done
[ -S "$SPOOL/private/auth" ] || die "dovecot auth socket did not appear"

# Remote MXs: smtp-sink throws mail away. -r RCPT: 450 to every recipient; -f RCPT: 500;
# -W CONNECT: silent greeting (the smtp client times out after smtp_helo_timeout).
start_sink() { smtp-sink -4 -u nobody "$@" & SINK_PIDS+=($!); }
start_sink -h mx.example.com "127.0.0.1:$P_SINK_OK" 10
start_sink -h mx.soft.example.com -r RCPT "127.0.0.1:$P_SINK_SOFT" 10
start_sink -h mx.hard.example.com -f RCPT "127.0.0.1:$P_SINK_HARD" 10
start_sink -h mx.slow.example.com -W CONNECT:20 "127.0.0.1:$P_SINK_SILENT" 10

POSTFIX_STARTED=1
postfix -c "$CONF" start
# postfix start returns once master(8) is listening; wait for the sinks only (probing the
# Postfix ports would log connections that belong to no scenario).
for p in $P_SINK_OK $P_SINK_SOFT $P_SINK_HARD $P_SINK_SILENT; do
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.2; done
done

# --- scenarios -------------------------------------------------------------------------
# The order matters: Dovecot's auth penalty (per client IP, through anvil) delays the n-th
# consecutive failed login by 2, 4, 8, then 15 s, and forgets it 29 s after the last
# failure; Postfix gives up on the auth server after 10 s. All clients here are 127.0.0.1,
# so the successful logins run first and the failures in pairs with a pause between, except
# S17/S18 which show the penalty on purpose.
SUB=(--server 127.0.0.1 --port "$P_SUBMISSION" --helo client.example.net)
MX=(--server 127.0.0.1 --port "$P_SMTP" --helo mta.example.net)
ALICE=(--auth-user alice@example.org --auth-password alice-capture-password)
BOB=(--auth-user bob@example.org --auth-password bob-capture-password)
SCEN=$TMP/scenarios.txt
ok=0 failed=0
mark() { say "$1"; printf '%s %s\n' "$(date '+%b %e %H:%M:%S')" "$1" >> "$SCEN"; }
# run NAME EXPECT(0|fail|any) swaks-args...: a scenario must succeed or fail as expected.
run() {
    local name=$1 expect=$2; shift 2
    mark "$name"
    local rc=0
    swaks --silent 2 --header "Subject: mailwarden capture $name" \
        --header "Message-Id: <$(date +%Y%m%d%H%M%S).$name@client.example.net>" \
        "$@" >/dev/null 2>&1 || rc=$?
    if [ "$expect" = any ] || { [ "$expect" = 0 ] && [ $rc -eq 0 ]; } ||
        { [ "$expect" = fail ] && [ $rc -ne 0 ]; }; then
        ok=$((ok + 1))
    else
        say "  unexpected swaks exit $rc for $name"; failed=$((failed + 1))
    fi
}
# raw_auth_drop NAME USER PASSWORD: EHLO, AUTH PLAIN, read the reply, drop without QUIT.
raw_auth_drop() {
    mark "$1"
    local line= plain
    plain=$(printf '\0%s\0%s' "$2" "$3" | base64 -w0)
    exec 3<>"/dev/tcp/127.0.0.1/$P_SUBMISSION"
    IFS= read -r -t 10 line <&3 || true
    printf 'EHLO client.example.net\r\n' >&3
    while IFS= read -r -t 10 line <&3; do case $line in 250\ *) break ;; esac; done
    printf 'AUTH PLAIN %s\r\n' "$plain" >&3
    IFS= read -r -t 30 line <&3 || true
    exec 3<&- 3>&-
    case $line in 535* | 454*) ok=$((ok + 1)) ;;
        *) say "  unexpected reply: $line"; failed=$((failed + 1)) ;; esac
}
penalty_pause() { say "  (30 s pause: Dovecot forgets the auth penalty)"; sleep 30; }

mark S01-probe-connect-drop
(exec 3<>"/dev/tcp/127.0.0.1/$P_SMTP") && ok=$((ok + 1))
run S02-auth-plain-local     0    "${SUB[@]}" --auth PLAIN "${ALICE[@]}" --from alice@example.org --to bob@example.org
run S03-auth-login-remote    0    "${SUB[@]}" --auth LOGIN "${BOB[@]}" --from bob@example.org --to carol@example.com
run S04-multi-recipient      0    "${SUB[@]}" --auth PLAIN "${ALICE[@]}" --from alice@example.org \
    --to bob@example.org,alice@example.org,carol@example.com,erin@example.net,frank@soft.example.com
run S05-deferred-refused     0    "${SUB[@]}" --auth LOGIN "${BOB[@]}" --from bob@example.org --to henry@down.example.com
run S06-deferred-timeout     0    "${SUB[@]}" --auth PLAIN "${BOB[@]}" --from bob@example.org --to ivan@slow.example.com
run S07-bounced              0    "${SUB[@]}" --auth PLAIN "${ALICE[@]}" --from alice@example.org --to judy@hard.example.com
run S08-inbound-delivered    0    "${MX[@]}" --from dave@example.net --to bob@example.org
run S09-inbound-unknown-user fail "${MX[@]}" --from dave@example.net --to nobody@example.org --quit-after RCPT
run S10-relay-denied         fail "${MX[@]}" --from spammer@example.net --to victim@example.com --quit-after RCPT
run S11-submission-noauth    fail "${SUB[@]}" --from alice@example.org --to carol@example.com --quit-after RCPT
run S12-plain-bad-password   fail "${SUB[@]}" --auth PLAIN --auth-user alice@example.org --auth-password wrong-password-1 --from alice@example.org --to bob@example.org
run S13-login-bad-password   fail "${SUB[@]}" --auth LOGIN --auth-user alice@example.org --auth-password wrong-password-2 --from alice@example.org --to bob@example.org
penalty_pause
run S14-plain-unknown-user   fail "${SUB[@]}" --auth PLAIN --auth-user mallory@example.org --auth-password guess-1 --from mallory@example.org --to bob@example.org
run S15-login-unknown-user   fail "${SUB[@]}" --auth LOGIN --auth-user mallory@example.org --auth-password guess-2 --from mallory@example.org --to bob@example.org
penalty_pause
raw_auth_drop S16-plain-bad-then-drop bob@example.org wrong-password-3
# S17: a burst of failures from one client; S18: the right password while the penalty
# (15 s) exceeds Postfix's 10 s auth-server timeout.
run S17a-burst-bad-password  fail "${SUB[@]}" --auth PLAIN --auth-user bob@example.org --auth-password wrong-password-4 --from bob@example.org --to alice@example.org
run S17b-burst-bad-password  fail "${SUB[@]}" --auth PLAIN --auth-user bob@example.org --auth-password wrong-password-5 --from bob@example.org --to alice@example.org
run S17c-burst-bad-password  fail "${SUB[@]}" --auth PLAIN --auth-user bob@example.org --auth-password wrong-password-6 --from bob@example.org --to alice@example.org
run S18-valid-under-penalty  any  "${SUB[@]}" --auth PLAIN "${BOB[@]}" --from bob@example.org --to alice@example.org

# --- wait for the queue to settle ------------------------------------------------------
log=$LOGDIR/mail.log
count() { grep -c -E "$1" "$log" 2>/dev/null || true; }
wait_for() {  # PATTERN MIN_COUNT TIMEOUT_SECONDS
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        [ "$(count "$1")" -ge "$2" ] && return 0
        sleep 0.2
    done
    say "timed out waiting for $2 x /$1/ (have $(count "$1"))"
    return 1
}
# Final states expected: virtual(8) S02, S04 x2, S08, the bounce of S07 to alice; the
# accepting sink S03, S04; discard S04; deferred S04 (450), S05, S06; bounced S07.
settled=1
wait_for 'postfix/virtual\[.*status=sent' 5 60 || settled=0
wait_for "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$P_SINK_OK,.*status=sent" 2 60 || settled=0
wait_for 'postfix/discard\[.*status=sent' 1 60 || settled=0
wait_for 'status=deferred' 3 60 || settled=0
wait_for 'status=bounced' 1 60 || settled=0
wait_for 'sender non-delivery notification' 1 60 || settled=0
sleep 2   # let qmgr log the last "removed" lines

# S19: the operator deletes what is left in the deferred queue (postsuper logs "removed").
# One queue id at a time: "-d ALL" logs only the "Deleted: N messages" summary.
mark S19-postsuper-delete-deferred
find "$SPOOL/deferred" -type f -printf '%f\n' | postsuper -c "$CONF" -d - || true

stop_all
sleep 0.5

mkdir -p "$OUT"
cp "$LOGDIR/mail.log" "$OUT/mail.log"
cp "$LOGDIR/dovecot.log" "$OUT/dovecot.log"
cp "$SCEN" "$OUT/scenarios.txt"
chmod 644 "$OUT/mail.log" "$OUT/dovecot.log" "$OUT/scenarios.txt"
cat > "$OUT/versions.txt" <<EOF
captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)
postfix: $PF_VERSION ($(dpkg-query -W -f='${Version}' postfix))
dovecot: $DC_VERSION ($(dpkg-query -W -f='${Version}' dovecot-core))
swaks: $SWAKS_VERSION ($(dpkg-query -W -f='${Version}' swaks))
os: $(. /etc/os-release && echo "$PRETTY_NAME")
temp dir (appears in the logs): $TMP
EOF

# The lines the parser tests rely on; a capture without one of them is a failed capture.
missing_lines=0
for re in 'sasl_method=PLAIN, sasl_username=' 'sasl_method=LOGIN, sasl_username=' \
    'SASL PLAIN authentication failed: .*sasl_username=' 'SASL LOGIN authentication failed: ' \
    'NOQUEUE: reject: RCPT from .*Relay access denied' 'User unknown in virtual mailbox table' \
    'status=sent \(250 2\.0\.0 Ok: queued as ' 'status=sent \(delivered to maildir\)' \
    'status=deferred \(connect to ' 'status=deferred \(conversation with ' 'status=deferred \(host ' \
    'status=bounced' 'sender non-delivery notification' 'postfix/discard\[' \
    'postfix/amavisd/smtpd\[' 'lost connection after AUTH' 'qmgr\[[0-9]+\]: [0-9A-F]+: removed' \
    'postsuper\[[0-9]+\]: [0-9A-F]+: removed'; do
    grep -Eq "$re" "$OUT/mail.log" || { say "missing in mail.log: /$re/"; missing_lines=1; }
done
for re in 'Password mismatch' 'unknown user'; do
    grep -Eq "$re" "$OUT/dovecot.log" || { say "missing in dovecot.log: /$re/"; missing_lines=1; }
done

say "scenarios as expected: $ok, unexpected: $failed; queue settled: $settled"
say "wrote $OUT/mail.log ($(wc -l < "$OUT/mail.log") lines), $OUT/dovecot.log ($(wc -l < "$OUT/dovecot.log") lines)"
[ "$failed" -eq 0 ] && [ "$settled" -eq 1 ] && [ "$missing_lines" -eq 0 ] || exit 1
