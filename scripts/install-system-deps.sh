#!/usr/bin/env bash
# Installs the Debian packages this project needs that a fresh machine may lack. Idempotent; needs root.
# Usage: install-system-deps.sh [group...]   (no group: all of them, what the tests need)
#   build: python3, make, g++ — better-sqlite3 compiles its native addon from source (its prebuilt
#     download is unreachable).
#   pacs: orthanc, orthanc-dicomweb, orthanc-gdcm — the PACS the imaging tests and the demo start on
#     loopback (DICOMweb for QIDO/WADO-RS; GDCM so it can transcode JPEG 2000 for clients that ask).
#   test: what only the tests use —
#     dcmtk, libgdcm-tools: dcmcrle/dcmcjpeg/dcmcjpls and gdcmconv write the compressed test fixtures,
#       so the decoder is tested on files that other DICOM software produced;
#     chromium, fonts-liberation, fonts-dejavu-core: the browser (and fonts for its screenshots) that the
#       SMART app's end-to-end tests and benchmark drive through playwright-core, which never downloads one;
#     python3-torch, python3-numpy: the training code (models/training/), whose smoke run is a test.
#       It runs with /usr/bin/python3, whatever python3 comes first on PATH.
# The demo (scripts/quickstart.sh) needs build and pacs only: about a sixth of the whole download.
set -euo pipefail

declare -A groups=(
  [build]='python3 make g++'
  [pacs]='orthanc orthanc-dicomweb orthanc-gdcm'
  [test]='dcmtk libgdcm-tools chromium fonts-liberation fonts-dejavu-core python3-torch python3-numpy'
)
wanted=("$@")
((${#wanted[@]} > 0)) || wanted=(build pacs test)
packages=()
for group in "${wanted[@]}"; do
  [[ -v "groups[$group]" ]] || { echo "usage: $0 [build|pacs|test]..." >&2; exit 2; }
  read -ra members <<<"${groups[$group]}"
  packages+=("${members[@]}")
done

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "Node.js >= 20.19 is required (found ${node_version}); Debian 12's nodejs package is too old." >&2
  exit 1
fi
