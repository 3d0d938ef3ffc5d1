#!/usr/bin/env bash
# Installs the Debian packages mgc needs, only those that are missing, without questions.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcjson-dev libnifti2-dev zlib1g-dev libzstd-dev
      libdnnl-dev ocl-icd-opencl-dev llvm-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
