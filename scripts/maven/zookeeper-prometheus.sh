#!/usr/bin/env bash
# Fetches ZooKeeper's Prometheus metrics provider and its simpleclient jars
# from Maven Central into a cache outside the checkout, for the real-process
# test of ZooKeeper's metrics (test/e2e/zookeeper-metrics.test.ts). The
# official zookeeper image ships these jars in its lib directory; Debian's
# zookeeper package does not, so the test adds them to Debian's classpath.
#
#   scripts/maven/zookeeper-prometheus.sh          fetch what is missing, print the jar dir
#   scripts/maven/zookeeper-prometheus.sh --print  print the jar dir only (no download)
#
# The version matches Debian's zookeeper (3.8.0) and its parent pom's
# prometheus.version (0.9.0). Every jar is checked against a pinned SHA-256,
# written to a temporary name first and renamed once verified, so a warm
# cache makes this a few checksum checks and an interrupted run leaves no
# half jar. MAVEN_REPOSITORY overrides the repository (a mirror).
set -euo pipefail

cache_root="${CDK8S_STATEFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful}"
dir="$cache_root/zookeeper-prometheus-3.8.0"
repo="${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}"

if [ "${1:-}" = "--print" ]; then
  echo "$dir"
  exit 0
fi

# path in the repository, then its SHA-256
jars=(
  "org/apache/zookeeper/zookeeper-prometheus-metrics/3.8.0/zookeeper-prometheus-metrics-3.8.0.jar f86020b4e6d76c91d447535504611c2755cdf4352e4a422342183b9e877544f2"
  "io/prometheus/simpleclient/0.9.0/simpleclient-0.9.0.jar 72d6dc49c023a4b3345d8a8a82d947ea24d07b1ad60cf57fee85a6f77b149a19"
  "io/prometheus/simpleclient_common/0.9.0/simpleclient_common-0.9.0.jar 97d404dca184d2a07817ccae2ef1df9fb34b84526c44cf2367ef0ba8031759c0"
  "io/prometheus/simpleclient_hotspot/0.9.0/simpleclient_hotspot-0.9.0.jar 927fc7069f9a8ebd1a8420c3bb1675a957bd359b95e50664aa96e387d4b0a256"
  "io/prometheus/simpleclient_servlet/0.9.0/simpleclient_servlet-0.9.0.jar 12cf7668b6f4941dbc8dac6dc270db0e579b216be0aee74a6ad98d7d6e8aa228"
)

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

for entry in "${jars[@]}"; do
  read -r path sha <<<"$entry"
  file="$dir/${path##*/}"
  if [ -f "$file" ] && echo "$sha  $file" | sha256sum --quiet -c - 2>/dev/null; then
    continue
  fi
  echo "[zookeeper-prometheus] fetching ${path##*/}" >&2
  curl -fsSL --retry 3 -o "$file.part" "$repo/$path"
  if ! echo "$sha  $file.part" | sha256sum --quiet -c -; then
    rm -f "$file.part"
    echo "[zookeeper-prometheus] ${path##*/}: SHA-256 mismatch, not installed" >&2
    exit 1
  fi
  mv "$file.part" "$file"
done
echo "$dir"
