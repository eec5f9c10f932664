#!/usr/bin/env bash
# Builds the seed corpus of fuzz_load in the directory given (default: fuzz-corpus): every model the
# project and the shared reference data hold, plus a few malformed files.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-fuzz-corpus}"
mkdir -p "$out"
for dir in "$root/example_models" "$root/../shared/reference/models" "$root/../shared/upstream/example_models"; do
  [ -d "$dir" ] && find "$dir" -name '*.nam' -size -300k -exec cp {} "$out/" \;
done
printf '' >"$out/empty.nam"
printf '{"version": "0.5.4", "architecture": "WaveNet", "config": {' >"$out/truncated.nam"
printf '[1, 2, 3]' >"$out/not-an-object.nam"
printf '{"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": 2, "bias": false}, "weights": [1, "x"]}' >"$out/string-weight.nam"
echo "$(ls "$out" | wc -l) seed files in $out"
