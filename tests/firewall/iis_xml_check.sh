#!/usr/bin/env bash
# IIS XML check: xmllint must find the applicationHost.config section that --backend iis writes
# for every Exchange example (every node) well-formed; first it proves xmllint rejects a broken
# section (a "--" inside a comment, which pugixml lets through), so the check can fail.
set -euo pipefail
mailwarden=$1 src=$2

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '<!-- a -- b -->\n<location path="x"/>\n' >"$out/broken.xml"
if xmllint --noout "$out/broken.xml" 2>/dev/null; then
  echo "iis xml: xmllint accepted a comment with '--': the check below would prove nothing" >&2
  exit 1
fi
rm -f "$out/broken.xml"

for policy in "$src"/examples/exchange*.toml; do
  name=$(basename "$policy" .toml)
  if ! "$mailwarden" firewall generate --policy "$policy" --backend iis --out "$out/$name" \
    2>"$out/stderr"; then
    cat "$out/stderr" >&2
    echo "iis xml: generating $policy failed" >&2
    exit 1
  fi
done

n=0
while IFS= read -r -d '' xml; do
  if ! xmllint --noout "$xml"; then
    echo "iis xml: ${xml#"$out"/} is not well-formed" >&2
    exit 1
  fi
  n=$((n + 1))
done < <(find "$out" -name '*.xml' -print0 | sort -z)
if [ "$n" -eq 0 ]; then
  echo "iis xml: no .xml artefact was generated" >&2
  exit 1
fi
echo "iis xml: $n files well-formed"
