#!/usr/bin/env bash
# Builds the MongoDB-compatible test server (FerretDB v1 embedded, SQLite backend) into .tools/.
# `go install` of FerretDB's own command does not work offline-proxied; its library package does.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null; then
  echo "build-mongo-server: Go is not installed; the MongoDB suites will skip (set MONGODB_URI to use a real server)" >&2
  exit 0
fi
mkdir -p .tools
(cd test/mongo-server && go build -o ../../.tools/mongo-server .)
echo "built .tools/mongo-server"
