#!/usr/bin/env bash
# Builds the control plane the test/controlplane suite runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, etcd, kwok) from the Go
# module proxy into a cache outside the checkout, and reuses what is there.
#
#   scripts/kubernetes/build.sh          build what is missing, print the bin dir
#   scripts/kubernetes/build.sh --print  print the bin dir only (no build)
#
# The bin dir is $CDK8S_STATEFUL_CACHE/kubernetes-v<version>/bin, with
# CDK8S_STATEFUL_CACHE defaulting to ${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful.
# Each binary is checked by its --version output, so a changed pin rebuilds it,
# and is written to a temporary name first, so an interrupted build leaves no
# half binary. Compilation runs at nice 19 (the rest of the suite is timing-sensitive).
# Needs Go >= 1.26; no GitHub access, no prebuilt downloads: modules come from
# the proxy (GOPROXY, default https://proxy.golang.org) and go.sum pins them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC1091
. "$here/versions.env"

cache_root="${CDK8S_STATEFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-stateful}"
dir="$cache_root/kubernetes-v$KUBERNETES_VERSION"
bin="$dir/bin"

if [ "${1:-}" = "--print" ]; then
  echo "$bin"
  exit 0
fi

log() { echo "[kubernetes build] $*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "go is not installed: cannot build the control plane (test/controlplane will skip, or fail under CI=true)"
  exit 1
fi

mkdir -p "$bin" "$dir/src"
exec 9>"$dir/.lock"
flock 9

export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
# Never fall back to fetching from the origin (GitHub...): "direct" is removed.
GOPROXY="$(echo "$GOPROXY" | tr ',|' ',,' | tr ',' '\n' | grep -v '^direct$' | paste -sd, -)"
export GOPROXY
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"

# version_ok NAME EXPECTED: the cached binary exists and prints EXPECTED in its version.
version_ok() {
  local out
  [ -x "$bin/$1" ] || return 1
  case "$1" in
    kubectl) out="$("$bin/$1" version --client 2>/dev/null)" || return 1 ;;
    *) out="$("$bin/$1" --version 2>/dev/null)" || return 1 ;;
  esac
  grep -qF -- "$2" <<<"$out"
}

# build MODULE NAME PACKAGE EXPECTED [LDFLAGS]
build() {
  local module="$1" name="$2" pkg="$3" expected="$4" ldflags="${5:-}"
  if version_ok "$name" "$expected"; then
    log "$name: cached ($expected)"
    return 0
  fi
  local src="$dir/src/$module"
  mkdir -p "$src"
  cp "$here/$module/go.mod" "$here/$module/go.sum" "$here/$module/tools.go" "$src/"
  local start=$SECONDS
  log "$name: building $pkg ..."
  (cd "$src" && nice -n 19 go build -o "$bin/.$name.tmp" -ldflags "-s -w $ldflags" "$pkg")
  mv -f "$bin/.$name.tmp" "$bin/$name"
  version_ok "$name" "$expected" || { log "$name: built, but its version is not $expected"; exit 1; }
  log "$name: built in $((SECONDS - start)) s"
}

kv="v$KUBERNETES_VERSION"
major="${KUBERNETES_VERSION%%.*}"
minor="${KUBERNETES_VERSION#*.}"; minor="${minor%%.*}"
kldflags="-X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
kldflags="$kldflags -X k8s.io/client-go/pkg/version.gitVersion=$kv -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"

total=$SECONDS
build kubernetes kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "Kubernetes $kv" "$kldflags"
build kubernetes kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "Kubernetes $kv" "$kldflags"
build kubernetes kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "Kubernetes $kv" "$kldflags"
build kubernetes kubectl k8s.io/kubernetes/cmd/kubectl "Client Version: $kv" "$kldflags"
build etcd etcd go.etcd.io/etcd/server/v3 "etcd Version: $ETCD_VERSION"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
# kwok's default stages (what kwokctl gives a cluster): nodes become Ready and keep
# a heartbeat, pods become Running and Ready, Job pods complete, deleted pods go.
stages="$dir/kwok-$KWOK_VERSION-stages.yaml"
if [ ! -s "$stages" ]; then
  kwok_dir="$(cd "$dir/src/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$kwok_dir/kustomize/stage/$f"
  done >"$stages.tmp"
  mv -f "$stages.tmp" "$stages"
fi
log "control plane ready in $bin (this run: $((SECONDS - total)) s)"
echo "$bin"
