#!/usr/bin/env bash
# Sets up and starts the local demo: the CDS service with the demonstration model, the SMART app, a
# FHIR server with synthetic patients behind a SMART authorization server, Orthanc with their
# radiographs, and an EHR simulator at http://127.0.0.1:8082/ to drive them. Loopback only; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm needs only the build tools; Orthanc installs meanwhile (on a fresh machine npm ci is most of the
# wait, and compiling better-sqlite3 most of that).
bash scripts/install-system-deps.sh build
pacs_log=$(mktemp)
bash scripts/install-system-deps.sh pacs >"$pacs_log" 2>&1 &
pacs_pid=$!
npm ci --no-audit --no-fund
npm run build
if ! wait "$pacs_pid"; then
  cat "$pacs_log" >&2
  echo "Installing Orthanc failed (above); the demo runs without radiographs." >&2
fi
rm -f "$pacs_log"
exec node dist/src/main.js demo
