#!/usr/bin/env bash
# README's first command: install (with a Node >= 22) and run the ClientsVia checklist against the demo target.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
# See .ci/run for why `npm install` follows a failed `npm ci`.
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
npm run --silent demo -- "$@"
