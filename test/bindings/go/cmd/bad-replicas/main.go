// Makes a ZooKeeper ensemble of two members, which the construct rejects: the
// construction-time error must reach Go (as a panic carrying its message).
package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-stateful/cdk8s-stateful-go/cdk8sstateful"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
)

func main() {
	defer jsii.Close()
	chart := cdk8s.NewChart(cdk8s.NewApp(nil), jsii.String("c"), nil)
	cdk8sstateful.NewZooKeeperEnsemble(chart, jsii.String("zk"), &cdk8sstateful.ZooKeeperEnsembleProps{Replicas: jsii.Number(2)})
}
