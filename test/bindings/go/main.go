// The zookeeper-kafka example (examples/zookeeper-kafka.ts) as a Go user writes it.
//
//	go run . OUTDIR
//
// synthesizes the chart the way examples/index.ts adds it (id "zookeeper-kafka",
// namespace "streaming") into OUTDIR/zookeeper-kafka.k8s.yaml.
package main

import (
	"fmt"
	"os"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-stateful/cdk8s-stateful-go/cdk8sstateful"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
)

// ZooKeeperKafkaChart holds three ZooKeeper members, one per node, scraped by
// Prometheus, and three Kafka brokers on them that prefer nodes running
// ZooKeeper, all on retained Ceph RBD volumes.
type ZooKeeperKafkaChart struct {
	cdk8s.Chart
	ZooKeeper cdk8sstateful.ZooKeeperEnsemble
	Kafka     cdk8sstateful.KafkaCluster
}

func NewZooKeeperKafkaChart(scope constructs.Construct, id string, props *cdk8s.ChartProps) *ZooKeeperKafkaChart {
	chart := cdk8s.NewChart(scope, jsii.String(id), props)
	ceph := cdk8sstateful.StorageClass_CephRbd(chart, jsii.String("ceph-rbd"), &cdk8sstateful.CephRbdOptions{
		Name: jsii.String("ceph-rbd"),
		Pool: jsii.String("replicapool"),
	})
	zk := cdk8sstateful.NewZooKeeperEnsemble(chart, jsii.String("zk"), &cdk8sstateful.ZooKeeperEnsembleProps{
		Replicas:   jsii.Number(3),
		Storage:    cdk8sstateful.Storage_Persistent(&cdk8sstateful.PersistentStorageOptions{Size: cdk8s.Size_Gibibytes(jsii.Number(10)), StorageClass: ceph}),
		Placement:  &cdk8sstateful.PlacementProps{AntiAffinity: cdk8sstateful.AntiAffinity_Hard()},
		Monitoring: &cdk8sstateful.MonitoringOptions{},
	})
	kafka := cdk8sstateful.NewKafkaCluster(chart, jsii.String("kafka"), &cdk8sstateful.KafkaClusterProps{
		Brokers:              jsii.Number(3),
		Zookeeper:            zk,
		ZookeeperChroot:      jsii.String("/kafka"),
		PreferZooKeeperNodes: jsii.Bool(true),
		Storage:              cdk8sstateful.Storage_Persistent(&cdk8sstateful.PersistentStorageOptions{Size: cdk8s.Size_Gibibytes(jsii.Number(100)), StorageClass: ceph}),
		Resources:            cdk8sstateful.Resources_Of(&cdk8sstateful.ResourcesProps{CpuMillis: jsii.Number(1000), Memory: cdk8s.Size_Gibibytes(jsii.Number(4))}),
		Heap:                 cdk8s.Size_Gibibytes(jsii.Number(2)),
	})
	return &ZooKeeperKafkaChart{Chart: chart, ZooKeeper: zk, Kafka: kafka}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s OUTDIR\n", os.Args[0])
		os.Exit(2)
	}
	defer jsii.Close()
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(os.Args[1])})
	NewZooKeeperKafkaChart(app, "zookeeper-kafka", &cdk8s.ChartProps{Namespace: jsii.String("streaming")})
	app.Synth()
}
