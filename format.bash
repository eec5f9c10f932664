#!/usr/bin/env bash
# Formats every C++ source of the library and the tools with the repository's .clang-format.
# Usage: ./format.bash          rewrite files in place
#        ./format.bash --check  list files that need formatting and exit 1 if any
set -euo pipefail
cd "$(dirname "$0")"
formatter=${CLANG_FORMAT:-clang-format}
if ! command -v "$formatter" >/dev/null 2>&1; then
  echo "format.bash: $formatter not found (Debian: apt-get install clang-format)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- 'NAM/*.h' 'NAM/*.cpp' 'NAM/*.inc' \
  'tools/*.h' 'tools/*.cpp')
[ "${#files[@]}" -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! "$formatter" --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "needs formatting: $f"
      bad=1
    fi
  done
  exit "$bad"
fi
"$formatter" -i "${files[@]}"
