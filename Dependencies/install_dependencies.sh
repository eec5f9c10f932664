#!/usr/bin/env bash
# Installs what building the library, the tools and the tests needs on Debian/Ubuntu, skipping packages
# that are already there. Run as root (or with sudo).
set -euo pipefail
packages=(cmake g++ make libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "All dependencies are installed."
  exit 0
fi
echo "Installing: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
