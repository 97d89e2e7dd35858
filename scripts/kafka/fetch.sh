#!/usr/bin/env bash
# Fetches the Kafka jars the real-broker e2e test (test/e2e/kafka.test.ts) runs, and the
# Prometheus JMX exporter's agent it loads into them, from Maven Central into a cache
# outside the checkout, and reuses what is there.
#
#   scripts/kafka/fetch.sh          fetch what is missing, then print one line per image
#   scripts/kafka/fetch.sh --print  print the lines only (no fetch)
#
# One pom per default image (kraft/pom.xml: KafkaCluster.DEFAULT_IMAGE,
# zookeeper-mode/pom.xml: KafkaCluster.ZOOKEEPER_MODE_DEFAULT_IMAGE) pins its Kafka
# release in <kafka.version>; jmx-exporter/pom.xml pins the agent in <jmx-exporter.version>.
# Each line is "<pom dir> <version> <libs dir>", tab-separated; the libs dir is
# $CDK8S_STATEFUL_CACHE/<kafka|jmx-exporter>-<version>/libs, with
# CDK8S_STATEFUL_CACHE defaulting to ${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful.
# A libs dir is reused while the sha256 of the pom that filled it is unchanged (a warm
# run starts no Maven); a fetch fills a temporary dir first, so an interrupted run
# leaves no half set behind.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${CDK8S_STATEFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful}"
print_only=false
case "${1:-}" in
  '') ;;
  --print) print_only=true ;;
  *) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

log() { echo "[kafka fetch] $*" >&2; }
die() { log "$*"; exit 1; }

# pom_version POM WHAT: its <WHAT.version>, which must be one x.y.z.
pom_version() {
  local v
  v="$(sed -n "s:.*<$2\\.version>\\(.*\\)</$2\\.version>.*:\\1:p" "$1")"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$1: <$2.version> must be one x.y.z release, got '${v}'"
  echo "$v"
}

# fetch POM VERSION DIR JAR...: copies the pom's runtime dependencies into DIR/libs, which must hold each JAR.
fetch() {
  local pom="$1" version="$2" dir="$3" sum tmp
  shift 3
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -d "$dir/libs" ] && [ "$(cat "$dir/.pom.sha256" 2>/dev/null)" = "$sum" ]; then
    log "$(basename "$dir"): cached"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn is not installed: cannot fetch the jars of $pom (apt-get install maven)"
  local start=$SECONDS
  log "$(basename "$dir"): fetching the jars of $pom ..."
  tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
  cp "$pom" "$tmp/pom.xml"
  if ! (cd "$tmp" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$tmp/libs" >&2); then
    rm -rf "$tmp"
    die "$(basename "$dir"): Maven could not fetch the jars of $pom"
  fi
  for jar in "$@"; do
    [ -f "$tmp/libs/$jar" ] || { rm -rf "$tmp"; die "$(basename "$dir"): $jar is missing from the fetched jars"; }
  done
  chmod -R a+rX "$tmp/libs"
  rm -rf "$dir/libs" "$dir/.pom.sha256"
  mv "$tmp/libs" "$dir/libs"
  echo "$sum" >"$dir/.pom.sha256"
  rm -rf "$tmp"
  log "$(basename "$dir"): $(find "$dir/libs" -name '*.jar' | wc -l) jars in $((SECONDS - start)) s"
}

for pom in "$here"/*/pom.xml; do
  name="$(basename "$(dirname "$pom")")"
  if [ "$name" = jmx-exporter ]; then
    what=jmx-exporter
    version="$(pom_version "$pom" "$what")"
    jars=("jmx_prometheus_javaagent-$version.jar")
  else
    what=kafka
    version="$(pom_version "$pom" "$what")"
    jars=("kafka_2.13-$version.jar" "kafka-tools-$version.jar")
  fi
  dir="$cache_root/$what-$version"
  if ! $print_only; then
    mkdir -p "$dir"
    chmod a+rx "$dir"
    exec 9>"$dir/.lock"
    flock 9
    fetch "$pom" "$version" "$dir" "${jars[@]}"
    exec 9>&-
  fi
  printf '%s\t%s\t%s\n' "$name" "$version" "$dir/libs"
done
