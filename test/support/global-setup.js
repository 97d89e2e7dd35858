// Jest global setup: one private temporary directory for the whole run.
// cdk8s's Testing.app() makes an output directory under os.tmpdir() for every
// app and never removes it; pointing TMPDIR here (the workers inherit it) and
// removing the directory in global-teardown.js leaves nothing behind.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-test-'));
  process.env.CDK8S_STATEFUL_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
