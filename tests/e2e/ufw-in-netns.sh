#!/bin/sh
# Runs ufw inside a network namespace against PRIVATE copies of its configuration, so that
# the host's /etc/ufw, /lib/ufw, /etc/default/ufw and /run are never written (ufw keeps its
# rules in /etc/ufw/user*.rules, its switches in /etc/ufw/ufw.conf and /etc/default/ufw, its
# lock in /run/ufw.lock, and runs /lib/ufw/ufw-init).
#
# usage: ufw-in-netns.sh [--fragments] NETNS ARTEFACT_DIR [COMMAND ARG...]
#   ARTEFACT_DIR holds the generated files: its `mailwarden` profile file goes into the
#   private applications.d; with --fragments, mailwarden-before.rules and
#   mailwarden-before6.rules are inserted before the last COMMIT of the private before.rules
#   and before6.rules, as their header tells an operator to do.
#   COMMAND defaults to `sh ARTEFACT_DIR/mailwarden-ufw.sh`; it runs in a private mount
#   namespace inside NETNS, with the copies bind-mounted over the real paths.
# Set MW_UFW_KEEP=1 to keep the private copies (their path is printed on stderr).
set -eu

fragments=0
if [ "${1:-}" = "--fragments" ]; then
  fragments=1
  shift
fi
if [ $# -lt 2 ]; then
  echo "usage: $0 [--fragments] NETNS ARTEFACT_DIR [COMMAND ARG...]" >&2
  exit 2
fi
netns=$1
artefacts=$(cd "$2" && pwd)
shift 2
if [ $# -eq 0 ]; then
  set -- sh "$artefacts/mailwarden-ufw.sh"
fi
[ -f "$artefacts/mailwarden" ] || { echo "$0: $artefacts/mailwarden: no profile file" >&2; exit 2; }

work=$(mktemp -d /tmp/mw-ufw.XXXXXX)
cleanup() {
  if [ "${MW_UFW_KEEP:-}" = 1 ]; then
    echo "$0: private ufw files kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# /lib is a symlink to usr/lib on merged-/usr systems: copy what it resolves to.
cp -a /etc/ufw "$work/etc-ufw"
cp -a "$(readlink -f /lib/ufw)" "$work/lib-ufw"
cp -a /etc/default/ufw "$work/default-ufw"
mkdir "$work/run"
cp "$artefacts/mailwarden" "$work/etc-ufw/applications.d/mailwarden"
chmod 0644 "$work/etc-ufw/applications.d/mailwarden"

# Insert $2's lines before the last COMMIT of $1.
insert_fragment() {
  awk -v frag="$2" '
    { lines[NR] = $0; if ($0 == "COMMIT") last = NR }
    END {
      if (!last) { print "no COMMIT line" > "/dev/stderr"; exit 1 }
      for (i = 1; i <= NR; i++) {
        if (i == last) while ((getline l < frag) > 0) print l
        print lines[i]
      }
    }' "$1" >"$1.new"
  mv "$1.new" "$1"
}
if [ "$fragments" = 1 ]; then
  insert_fragment "$work/etc-ufw/before.rules" "$artefacts/mailwarden-before.rules"
  insert_fragment "$work/etc-ufw/before6.rules" "$artefacts/mailwarden-before6.rules"
fi

# The mounts live and die with the private mount namespace: nothing to unmount afterwards.
# PYTHONDONTWRITEBYTECODE keeps ufw's Python from writing .pyc files under /usr.
# shellcheck disable=SC2016 # the inner script expands its own variables
ip netns exec "$netns" env PYTHONDONTWRITEBYTECODE=1 MW_UFW_WORK="$work" \
  unshare --mount --propagation private sh -c '
    set -e
    mount --bind "$MW_UFW_WORK/etc-ufw" /etc/ufw
    mount --bind "$MW_UFW_WORK/lib-ufw" "$(readlink -f /lib/ufw)"
    mount --bind "$MW_UFW_WORK/default-ufw" /etc/default/ufw
    mount --bind "$MW_UFW_WORK/run" /run
    exec "$@"' mw-ufw "$@"
