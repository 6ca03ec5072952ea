#!/usr/bin/env bash
# The tree is formatted with the committed .clang-format: fails naming each file that is not.
set -uo pipefail
src=${1:?usage: $0 PROJECT_SOURCE_DIR}
cd "$src" || exit 2
command -v clang-format >/dev/null || { echo "clang-format not installed (scripts/install-deps)"; exit 1; }
mapfile -t files < <(find src tests fuzz bench -name '*.cpp' -o -name '*.hpp' | sort)
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f, or make format)"
    bad=$((bad + 1))
  fi
done
echo "${#files[@]} files checked, $bad not formatted"
[ "$bad" -eq 0 ]
