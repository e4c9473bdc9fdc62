#!/usr/bin/env bash
# Runs every test: installs what the tests need, then type-checks, lints and runs the test suites
# (unit and integration, against real servers started on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm test
