#!/usr/bin/env bash
# Sets up and starts the local demo: the CDS service with the demonstration model, the SMART app, a
# FHIR server with synthetic patients behind a SMART authorization server, Orthanc with their
# radiographs, and an EHR simulator at http://127.0.0.1:8082/ to drive them. Loopback only; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh --demo
npm ci --no-audit --no-fund
npm run build
exec node dist/src/main.js demo
