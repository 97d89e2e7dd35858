// Removes the run's private temporary directory (see global-setup.js).
const fs = require('fs');

module.exports = async () => {
  const dir = process.env.CDK8S_STATEFUL_TEST_TMPDIR;
  if (dir && dir.includes('cdk8s-stateful-test-')) fs.rmSync(dir, { recursive: true, force: true });
};
