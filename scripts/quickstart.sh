#!/usr/bin/env bash
# Sets up and starts the service on the embedded defaults (config/local.json): loopback only,
# development mode, authentication explicitly disabled for local trials.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund
npm run build
exec node dist/src/main.js serve --config config/local.json
