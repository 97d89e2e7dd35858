//go:build tools

// Package tools pins the kwok command scripts/kubernetes/build.sh builds.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
