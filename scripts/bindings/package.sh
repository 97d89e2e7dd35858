#!/usr/bin/env bash
# Builds the jsii package of one language from the current sources into a cache outside the
# checkout, for the consumer tests of test/bindings/, and prints the directory it is in.
#
#   scripts/bindings/package.sh python   dir holding cdk8s_stateful-<version>-py3-none-any.whl
#   scripts/bindings/package.sh go       dir holding the Go modules cdk8sstateful/ and, generated
#                                        from node_modules, constructs/ cdk8s/ cdk8splus27/
#
# The sources (src/, imports/, package.json, package-lock.json, tsconfig.jsii.json, README.md)
# are copied into a temporary directory, compiled with jsii and packaged with jsii-pacmak there,
# so the checkout is never written to. The result lives in
# $CDK8S_STATEFUL_CACHE/bindings/<target>-<sha256 of those files and this script> (the cache
# defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful): a warm run only hashes. The
# three newest builds of a target are kept.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${1:-}"
case "$target" in
  python) recurse=() ;;
  # cdk8s and cdk8s-plus-27 are published as Go modules, but the module proxy this project
  # reaches does not serve them: -R generates them (and constructs) from node_modules, and the
  # consumer points its go.mod at them with replace directives.
  go) recurse=(--recurse) ;;
  *) echo "usage: $0 python|go" >&2; exit 2 ;;
esac

inputs=(src imports package.json package-lock.json tsconfig.jsii.json README.md)
cache="${CDK8S_STATEFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful}/bindings"
key="$(cd "$repo" && { find "${inputs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum <"${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)"
dir="$cache/$target-$key"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -d "$dir" ]; then
  echo "$dir"
  exit 0
fi

echo "[bindings] $target: building the package of the current sources (jsii, jsii-pacmak) ..." >&2
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/pkg"
(cd "$repo" && cp -r "${inputs[@]}" "$tmp/pkg/")
ln -s "$repo/node_modules" "$tmp/pkg/node_modules"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# jsii-pacmak packs the npm package into the binding; the sources are compiled already.
export npm_config_ignore_scripts=true
(
  cd "$tmp/pkg"
  node_modules/.bin/jsii --fail-on-warnings >&2
  node_modules/.bin/jsii-pacmak --targets "$target" "${recurse[@]}" --outdir "$tmp/out" --no-npmignore --force >&2
)
mv "$tmp/out/$target" "$dir"
# keep the three newest builds of this target
find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$target-*" -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d ' ' -f 2- | xargs -r rm -rf
echo "[bindings] $target: $dir" >&2
echo "$dir"
