# Sourced by .ci/run and scripts/demo.sh: puts a Node >= 22 first on PATH, installing Node 24 from
# the npm registry's `node` package when the system's Node is older (Node 20 is end-of-life).
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x .tools/node/node_modules/.bin/node ]; then
    echo "system Node $(node --version 2>/dev/null || echo none) is older than 22: installing Node 24 from the npm registry" >&2
    mkdir -p .tools/node
    npm install --prefix .tools/node --no-save --no-audit --no-fund --loglevel=error node@24 >/dev/null
  fi
  export PATH="$PWD/.tools/node/node_modules/.bin:$PATH"
fi
