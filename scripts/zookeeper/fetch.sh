#!/usr/bin/env bash
# Fetches the jars of the default ZooKeeper image's release (pom.xml beside this script)
# from Maven Central into a cache outside the checkout, for the backup e2e test
# (test/e2e/zookeeper-ops.test.ts): Debian's ZooKeeper 3.8 has no AdminServer snapshot
# command, which the backups use.
#
#   scripts/zookeeper/fetch.sh          fetch unless cached, then print the libs dir
#   scripts/zookeeper/fetch.sh --print  print the libs dir only (no fetch)
#
# The libs dir is $CDK8S_STATEFUL_CACHE/zookeeper-<version>/libs (the cache defaults to
# ${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful). It is reused while the sha256 of the pom
# that filled it is unchanged (a warm run starts no Maven); a fetch fills a temporary dir
# first, so an interrupted run leaves no half set behind.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/pom.xml"
version="$(sed -n 's:.*<zookeeper\.version>\(.*\)</zookeeper\.version>.*:\1:p' "$pom")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "[zookeeper fetch] $pom: <zookeeper.version> must be one x.y.z, got '$version'" >&2; exit 1; }
dir="${CDK8S_STATEFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful}/zookeeper-$version"
case "${1:-}" in
  --print) echo "$dir/libs"; exit 0 ;;
  '') ;;
  *) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
sum="$(sha256sum "$pom" | cut -d ' ' -f 1)"
if [ -d "$dir/libs" ] && [ "$(cat "$dir/.pom.sha256" 2>/dev/null)" = "$sum" ]; then
  echo "$dir/libs"
  exit 0
fi
command -v mvn >/dev/null 2>&1 || { echo "[zookeeper fetch] mvn is not installed (apt-get install maven)" >&2; exit 1; }
echo "[zookeeper fetch] zookeeper $version: fetching the jars of $pom ..." >&2
tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$pom" "$tmp/pom.xml"
(cd "$tmp" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$tmp/libs" >&2)
[ -f "$tmp/libs/zookeeper-$version.jar" ] || { echo "[zookeeper fetch] zookeeper-$version.jar is missing from the fetched jars" >&2; exit 1; }
chmod -R a+rX "$tmp/libs"
rm -rf "$dir/libs" "$dir/.pom.sha256"
mv "$tmp/libs" "$dir/libs"
echo "$sum" >"$dir/.pom.sha256"
echo "[zookeeper fetch] zookeeper $version: $(find "$dir/libs" -name '*.jar' | wc -l) jars" >&2
echo "$dir/libs"
