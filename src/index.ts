// The public API: constructs, their props, choice classes and enums. Renderers,
// constants and helpers stay internal (tests import them from their modules).

// the stateful unit and what every system shares
export { StatefulSystem, ImagePullPolicy } from './core/system';
export type { StatefulSystemProps } from './core/system';
export { StatefulWorkload } from './core/stateful-workload';
export type { StatefulWorkloadProps, ClientServiceOptions } from './core/stateful-workload';
export { PortRole } from './core/pod-spec';
export type { WorkloadContainer, WorkloadPort, WorkloadMount, WorkloadVolume, SecretVolume, ConfigFile } from './core/pod-spec';
export { UpdateStrategy, PodManagementPolicy, ClaimRetention, UnhealthyPodEvictionPolicy, Budgets } from './core/policies';
export type { DisruptionBudget } from './core/policies';
export { WorkloadIdentity } from './core/identity';
export type { WorkloadIdentityOptions } from './core/identity';
export { Storage, AccessMode, StorageClass, VolumeBindingMode, ReclaimPolicy } from './core/storage';
export type { PersistentStorageOptions, EphemeralStorageOptions, StorageClassProps, StorageClassPresetOptions, CephRbdOptions } from './core/storage';
export { AntiAffinity } from './core/placement';
export type { PlacementProps, PodAffinityPreference } from './core/placement';
export { Resources } from './core/resources';
export type { ResourcesProps } from './core/resources';
export type { RunAs } from './core/security';
export { Probe } from './core/probes';
export type { ProbeTiming } from './core/probes';
export { Credentials } from './core/credentials';
export type { CredentialsProps } from './core/credentials';
export { MetricsMonitor } from './core/monitoring';
export type { MetricsMonitorProps, MonitoringOptions, AlertRule, AlertThreshold, AlertOverride, BackupAlertOptions } from './core/monitoring';
export { RestrictedProfile } from './core/interop';
export { BackupTarget, S3UriStyle } from './core/backup';
export type { S3BackupTargetOptions, VolumeBackupTargetOptions } from './core/backup';

// the systems
export { ZooKeeperEnsemble } from './zookeeper/zookeeper-ensemble';
export type { ZooKeeperEnsembleProps, ZooKeeperBackupOptions, ZooKeeperRestoreOptions } from './zookeeper/zookeeper-ensemble';
export { KafkaCluster, KafkaMode, KafkaControllerMode } from './kafka/kafka-cluster';
export type { KafkaClusterProps } from './kafka/kafka-cluster';
export { MySqlReplicaSet, MySqlFlavor } from './mysql/mysql-replica-set';
export type { MySqlReplicaSetProps, MySqlUser, MySqlBackupOptions, MySqlRestoreOptions } from './mysql/mysql-replica-set';
export { RedisCluster } from './redis/redis-cluster';
export type { RedisClusterProps, RedisBackupOptions, RedisRestoreOptions } from './redis/redis-cluster';
export { MongoReplicaSet } from './mongodb/mongo-replica-set';
export type { MongoReplicaSetProps, MongoUser, MongoBackupOptions } from './mongodb/mongo-replica-set';
export { PostgresReplicaSet, PostgresSynchronousCommit } from './postgres/postgres-replica-set';
export type { PostgresReplicaSetProps, PostgresUser, PostgresParameters, PostgresBackupOptions, PostgresRestoreOptions } from './postgres/postgres-replica-set';
