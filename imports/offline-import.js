#!/usr/bin/env node
// Regenerates the L1 classes in imports/ without network access.
// (Kubernetes itself: `node imports/offline-import.js k8s@1.27.0`; the library
// uses the identical classes that cdk8s-plus-27 ships, see src/core/private/k8s.ts.)
//
// `cdk8s import k8s@X` downloads the Kubernetes OpenAPI definitions from GitHub,
// which CI and developer machines cannot reach. The project carries the same
// definitions in schemas/kubernetes (see schemas/NOTICE), so this wrapper answers
// the CLI's schema download from that folder and then runs the ordinary
// `cdk8s import` command unchanged.
// Usage: node imports/offline-import.js <cdk8s import arguments...>
'use strict';
const fs = require('fs');
const path = require('path');

// the package's exports map hides lib/, so load its files by path
const cli = path.dirname(require.resolve('cdk8s-cli/package.json', { paths: [path.join(__dirname, '..')] }));
const schemas = path.resolve(__dirname, '..', 'schemas', 'kubernetes');
const util = require(path.join(cli, 'lib', 'util.js'));
const download = util.download;
util.download = async (url) => {
  const m = /kubernetes-schemas\/v([0-9.]+)\/_definitions\.json$/.exec(url);
  if (!m) return download(url);
  const file = path.join(schemas, `v${m[1]}`, '_definitions.json');
  if (!fs.existsSync(file)) {
    throw new Error(`offline-import: no local schema for Kubernetes ${m[1]} at ${file}`);
  }
  return fs.readFileSync(file, 'utf-8');
};

// --no-save: the CLI would rewrite cdk8s.yaml (dropping its comments) and list
// every spec imported here; --check-upgrade=false: no registry lookup offline.
process.argv = [process.argv[0], 'cdk8s', 'import', '--no-save', '--check-upgrade=false', ...process.argv.slice(2)];
require(path.join(cli, 'lib', 'cli', 'index.js'));
