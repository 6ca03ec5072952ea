#!/usr/bin/env bash
# Meta test: every external tool the build and the tests run comes from a Debian package that scripts/install-deps installs.
#
# Usage: install_deps_test.sh PROJECT_SOURCE_DIR      check PROJECT_SOURCE_DIR/scripts/install-deps
#        install_deps_test.sh --self-test PROJECT_SOURCE_DIR
#            proves the check can fail: runs it on a copy of install-deps without nftables,
#            in a temporary directory, and expects a failure naming nft and nftables.
# This machine was set up partly by hand, so "the tool is here" proves nothing: the package
# that provides it must be in install-deps' list, or a fresh machine will not have it.
set -uo pipefail

# The one list of tools to check. Add a tool here when the build or a test starts running it.
# Tools of Debian's Essential packages (sh, cat, head, sed, grep...) are on every system.
tools=(
  ip nft conntrack setpriv unshare   # e2e tests: network namespaces, nftables, conntrack
  iptables-restore ip6tables-restore iptables-save ip6tables-save ipset ufw sysctl mount awk   # iptables, ipset, ufw e2e
  firewall-offline-cmd xmllint      # firewalld config check, IIS XML check
  cmake ninja g++           # build
  clang++                   # fuzz build
  clang-format              # format check
  nmap hyperfine lynis      # benchmarks' peers (scan, audit)
  postfix postconf postqueue postsuper smtp-sink redis-server redis-cli   # policyd e2e
  systemd-analyze postfwd redis-benchmark   # policyd unit check, benchmark peers
  rbldnsd unbound   # dnsbl e2e
)

if [ "${1:-}" = "--self-test" ]; then
  src=${2:?usage: $0 --self-test PROJECT_SOURCE_DIR}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/scripts"
  # Drop nftables from the package list only (the word, wherever it stands on its line).
  sed -E 's/(^|[[:space:]])nftables([[:space:]]|$)/\1\2/' "$src/scripts/install-deps" \
    >"$tmp/scripts/install-deps"
  if grep -qE '(^|[[:space:]])nftables([[:space:]]|$)' "$tmp/scripts/install-deps"; then
    echo "self-test: could not remove nftables from the copy" >&2
    exit 1
  fi
  real=$(bash "$0" "$src" 2>&1)
  out=$(bash "$0" "$tmp" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  # It must fail, on nft naming nftables, and on nothing the real install-deps passes.
  real_fails=$(grep -c '^FAIL ' <<<"$real")
  copy_fails=$(grep -c '^FAIL ' <<<"$out")
  if [ "$rc" -ne 0 ] && grep -q '^FAIL nft: .*nftables' <<<"$out" &&
    ! grep -q '^FAIL nft:' <<<"$real" && [ "$copy_fails" -eq $((real_fails + 1)) ]; then
    echo "self-test: the check failed as it must, naming nft and nftables"
    exit 0
  fi
  echo "self-test: the check did not fail on an install-deps without nftables (exit $rc)" >&2
  exit 1
fi

src=${1:?usage: $0 PROJECT_SOURCE_DIR}
script="$src/scripts/install-deps"
if [ ! -r "$script" ]; then
  echo "install_deps_test: cannot read $script" >&2
  exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install_deps_test: dpkg-query not found: not a Debian system, nothing to check"
  exit 77
fi

# The words of the packages=( ... ) array, comments dropped (they may contain parentheses).
mapfile -t packages < <(
  sed 's/#.*//' "$script" |
    awk '!inside && /^[[:space:]]*packages=\(/ { inside = 1; sub(/^[[:space:]]*packages=\(/, "") }
         inside { end = index($0, ")"); if (end) { print substr($0, 1, end - 1); exit } print }' |
    tr -s ' \t' '\n' | sed '/^$/d'
)
if [ ${#packages[@]} -eq 0 ]; then
  echo "install_deps_test: found no packages=( ... ) list in $script" >&2
  exit 1
fi

listed() {
  local p
  for p in "${packages[@]}"; do [ "$p" = "$1" ] && return 0; done
  return 1
}

# Every path by which a file may be known to dpkg: the path, each symlink hop, the final
# target, and for each its usrmerge twin (/bin/x and /usr/bin/x are the same file, but dpkg
# knows only the name the package shipped).
candidate_paths() {
  local p=$1 next n=0
  local -a out=("$p")
  while [ -L "$p" ] && [ $n -lt 20 ]; do
    next=$(readlink "$p")
    case $next in /*) p=$next ;; *) p=$(dirname "$p")/$next ;; esac
    out+=("$p")
    n=$((n + 1))
  done
  out+=("$(readlink -f "$1")")
  for p in "${out[@]}"; do
    p=$(realpath -s -m "$p")
    echo "$p"
    case $p in
      /usr/bin/* | /usr/sbin/* | /usr/lib/* | /usr/lib64/*) echo "${p#/usr}" ;;
      /bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$p" ;;
    esac
  done | awk '!seen[$0]++'
}

# Packages owning exactly this path ("pkg1, pkg2:amd64: /path"; diversions skipped).
owners() {
  dpkg-query -S "$1" 2>/dev/null | grep -v '^diversion ' | while IFS= read -r line; do
    [ "${line##*: }" = "$1" ] || continue
    tr ',' '\n' <<<"${line%: *}" | sed -e 's/^ *//' -e 's/:.*//'
  done
}

failed=0
passed=0
for tool in "${tools[@]}"; do
  mapfile -t paths < <(type -aP "$tool" | awk '!seen[$0]++')
  if [ ${#paths[@]} -eq 0 ]; then
    echo "FAIL $tool: not found in PATH (run scripts/install-deps; is its package listed?)"
    failed=$((failed + 1))
    continue
  fi
  covered=""
  seen_owners=()
  for path in "${paths[@]}"; do
    while IFS= read -r candidate; do
      while IFS= read -r pkg; do
        [ -n "$pkg" ] || continue
        seen_owners+=("$pkg")
        if listed "$pkg"; then
          covered="$pkg ($candidate)"
          break 3
        fi
      done < <(owners "$candidate")
    done < <(candidate_paths "$path")
  done
  if [ -n "$covered" ]; then
    echo "ok   $tool: $covered"
    passed=$((passed + 1))
  elif [ ${#seen_owners[@]} -eq 0 ]; then
    echo "FAIL $tool: ${paths[*]} belongs to no Debian package (installed by hand?);" \
      "install-deps cannot provide it"
    failed=$((failed + 1))
  else
    uniq_owners=$(printf '%s\n' "${seen_owners[@]}" | awk '!seen[$0]++' | paste -sd ' ')
    echo "FAIL $tool: provided by package(s) $uniq_owners, none of which is in" \
      "the package list of $script"
    failed=$((failed + 1))
  fi
done

echo "install-deps covers tools: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
