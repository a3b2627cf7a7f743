#!/usr/bin/env bash
# The system packages the tests need, checked before any test runs (`npm test`'s pretest and
# .ci/run both call this). What is missing is installed when it can be (root and apt-get, as in CI
# or a fresh Debian container); otherwise this stops with the one command that would install it,
# since a test run without them fails halfway with errors that do not say why.
set -euo pipefail

# command -> Debian package. The browser tests drive Chromium, the metrics tests Prometheus'
# promtool; the HTTPS tests make their certificate with openssl (npm run cert:dev) and use curl; npm
# start's port check reads `ss` and the multi-host tests build network namespaces with `ip` (both
# iproute2) and run an etcd cluster in them (etcd-server, etcd-client); keepalived moves the front
# hosts' shared address, and nft (nftables) drops new connections during a planned failover and
# cuts VRRP for the split-brain test. The benchmarks' comparison tools (nginx, HAProxy) are not needed here.
needs=(
  chromium:chromium
  promtool:prometheus
  etcd:etcd-server
  etcdctl:etcd-client
  openssl:openssl
  curl:curl
  ss:iproute2
  ip:iproute2
  keepalived:keepalived
  nft:nftables
)

missing=()
for need in "${needs[@]}"; do
  command="${need%%:*}"
  package="${need#*:}"
  # keepalived and etcd live in /usr/sbin or /usr/bin; a non-root PATH may lack /usr/sbin.
  if ! PATH="$PATH:/usr/sbin:/sbin" type -P "$command" >/dev/null 2>&1; then
    [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
  fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

install="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "system-deps: the tests need system packages that are not installed: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "Install them with:  sudo sh -c '$install'" >&2
else
  echo "This is not a Debian-like system (no apt-get): install the equivalents of these packages." >&2
fi
exit 1
