"""The zookeeper-kafka example (examples/zookeeper-kafka.ts) as a Python user writes it.

    python zookeeper_kafka.py OUTDIR

synthesizes the chart the way examples/index.ts adds it (id 'zookeeper-kafka',
namespace 'streaming') into OUTDIR/zookeeper-kafka.k8s.yaml.
"""
import sys

from cdk8s import App, Chart, Size
from constructs import Construct

from cdk8s_stateful import (
    AntiAffinity,
    KafkaCluster,
    MonitoringOptions,
    PlacementProps,
    Resources,
    Storage,
    StorageClass,
    ZooKeeperEnsemble,
)


class ZooKeeperKafkaChart(Chart):
    """Three ZooKeeper members, one per node, scraped by Prometheus, and three
    Kafka brokers on them that prefer nodes running ZooKeeper, all on retained
    Ceph RBD volumes."""

    def __init__(self, scope: Construct, id: str, **chart_props) -> None:
        super().__init__(scope, id, **chart_props)
        ceph = StorageClass.ceph_rbd(self, "ceph-rbd", name="ceph-rbd", pool="replicapool")
        self.zookeeper = ZooKeeperEnsemble(
            self,
            "zk",
            replicas=3,
            storage=Storage.persistent(size=Size.gibibytes(10), storage_class=ceph),
            placement=PlacementProps(anti_affinity=AntiAffinity.hard()),
            monitoring=MonitoringOptions(),
        )
        self.kafka = KafkaCluster(
            self,
            "kafka",
            brokers=3,
            zookeeper=self.zookeeper,
            zookeeper_chroot="/kafka",
            prefer_zoo_keeper_nodes=True,
            storage=Storage.persistent(size=Size.gibibytes(100), storage_class=ceph),
            resources=Resources.of(cpu_millis=1000, memory=Size.gibibytes(4)),
            heap=Size.gibibytes(2),
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    app = App(outdir=sys.argv[1])
    ZooKeeperKafkaChart(app, "zookeeper-kafka", namespace="streaming")
    app.synth()
