#!/usr/bin/env bash
# README's first command: install (with a Node >= 22) and run the ClientsVia checklist against the demo target.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent demo -- "$@"
