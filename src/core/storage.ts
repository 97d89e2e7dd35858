import { ApiObjectMetadata, Size, SizeRoundingBehavior } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from './private/k8s';
import { describe, Problem } from './names';

/** How a PersistentVolume may be mounted. */
export enum AccessMode {
  /** Mounted read-write by a single node (block storage: Ceph RBD, EBS, PD, Azure Disk). */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Mounted read-write by a single pod (Kubernetes 1.22+ with CSI). */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
  /** Mounted read-only by many nodes. */
  READ_ONLY_MANY = 'ReadOnlyMany',
  /** Mounted read-write by many nodes (file storage: CephFS, EFS, NFS). */
  READ_WRITE_MANY = 'ReadWriteMany',
}

/** Options of `Storage.persistent`. */
export interface PersistentStorageOptions {
  /** Capacity each pod's claim requests. */
  readonly size: Size;
  /**
   * StorageClass of the claims: a name, or use `storageClass` for a
   * `StorageClass` construct of this app.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * A StorageClass defined in this app; takes precedence over `storageClassName`.
   * @default - `storageClassName`
   */
  readonly storageClass?: StorageClass;
  /**
   * Access modes of the claims.
   * @default [AccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: AccessMode[];
  /**
   * Labels added to each claim.
   * @default - the workload's standard labels only
   */
  readonly labels?: { [key: string]: string };
  /**
   * Annotations added to each claim (e.g. backup hints).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

/** Options of `Storage.ephemeral`. */
export interface EphemeralStorageOptions {
  /**
   * Upper bound of the emptyDir; the kubelet evicts a pod that exceeds it.
   * @default - no limit
   */
  readonly sizeLimit?: Size;
  /**
   * Keep the data in RAM (tmpfs). It then counts against the memory limit.
   * @default false
   */
  readonly memory?: boolean;
}

/**
 * Where a workload keeps its data: a PersistentVolumeClaim per pod (the
 * production default, which survives restarts and rescheduling) or an
 * emptyDir that lives and dies with the pod (tests, caches).
 */
export class Storage {
  /** A claim per pod from the StatefulSet's volumeClaimTemplates. */
  public static persistent(options: PersistentStorageOptions): Storage {
    return new Storage(true, options, undefined);
  }

  /** An emptyDir per pod: data is lost when the pod is deleted or rescheduled. */
  public static ephemeral(options: EphemeralStorageOptions = {}): Storage {
    return new Storage(false, undefined, options);
  }

  /**
   * An existing PersistentVolumeClaim, mounted by name: the same volume in
   * every pod that mounts it (a backup repository for a Job; a ReadWriteMany
   * share). Not a per-pod claim: use `persistent` for data.
   */
  public static existingClaim(claimName: string): Storage {
    return new Storage(false, undefined, undefined, claimName);
  }

  private constructor(
    /** True when backed by a claim template: a PersistentVolumeClaim per pod. */
    public readonly isPersistent: boolean,
    private readonly persistentOptions: PersistentStorageOptions | undefined,
    private readonly ephemeralOptions: EphemeralStorageOptions | undefined,
    /** The name of the existing claim, for `existingClaim`. */
    public readonly claimName?: string,
  ) {}

  /** The requested capacity, or the emptyDir size limit. */
  public get size(): Size | undefined {
    return this.persistentOptions?.size ?? this.ephemeralOptions?.sizeLimit;
  }

  /** The name of the StorageClass the claims use, if one is set. */
  public get storageClassName(): string | undefined {
    return this.persistentOptions?.storageClass?.name ?? this.persistentOptions?.storageClassName;
  }

  /**
   * Throws if the size is not positive.
   * @internal
   */
  public _validate(problem: Problem, prop: string): void {
    if (this.claimName !== undefined) {
      problem.dnsLabel(`${prop} claimName`, this.claimName, 253);
      return;
    }
    if (this.persistentOptions && !(this.persistentOptions.size instanceof Size)) {
      throw problem.error(`${prop} size`, `must be a Size such as Size.gibibytes(10), got ${describe(this.persistentOptions.size)}`);
    }
    if (this.ephemeralOptions?.sizeLimit !== undefined && !(this.ephemeralOptions.sizeLimit instanceof Size)) {
      throw problem.error(`${prop} sizeLimit`, `must be a Size such as Size.mebibytes(64), got ${describe(this.ephemeralOptions.sizeLimit)}`);
    }
    const size = this.size;
    if (size !== undefined && !(size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) > 0)) {
      throw problem.error(prop, `must have a size greater than 0, got ${size.asString()}`);
    }
  }

  /**
   * The claim template for volume `name`.
   * @internal
   */
  public _claimTemplate(name: string, labels: { [key: string]: string }): k8s.KubePersistentVolumeClaimProps {
    const o = this.persistentOptions!;
    const metadata: ApiObjectMetadata = {
      name,
      labels: { ...labels, ...(o.labels ?? {}) },
      ...(o.annotations ? { annotations: o.annotations } : {}),
    };
    return {
      metadata,
      spec: {
        accessModes: o.accessModes ?? [AccessMode.READ_WRITE_ONCE],
        ...(this.storageClassName ? { storageClassName: this.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString(o.size.asString()) } },
      },
    };
  }

  /**
   * The pod volume for an ephemeral volume `name`.
   * @internal
   */
  public _podVolume(name: string): k8s.Volume {
    if (this.claimName !== undefined) return { name, persistentVolumeClaim: { claimName: this.claimName } };
    const o = this.ephemeralOptions!;
    return {
      name,
      emptyDir: {
        ...(o.memory ? { medium: 'Memory' } : {}),
        ...(o.sizeLimit ? { sizeLimit: k8s.Quantity.fromString(o.sizeLimit.asString()) } : {}),
      },
    };
  }
}

/** When a StorageClass binds and provisions a volume. */
export enum VolumeBindingMode {
  /** Provision when the pod is scheduled, in the pod's zone (right for zonal block storage). */
  WAIT_FOR_FIRST_CONSUMER = 'WaitForFirstConsumer',
  /** Provision as soon as the claim is created. */
  IMMEDIATE = 'Immediate',
}

/** What happens to a dynamically provisioned volume when its claim is deleted. */
export enum ReclaimPolicy {
  /** Keep the volume (and its data) for an operator to reclaim: right for databases. */
  RETAIN = 'Retain',
  /** Delete the volume with the claim. */
  DELETE = 'Delete',
}

/** Props of `StorageClass`. */
export interface StorageClassProps {
  /** The CSI driver or in-tree provisioner, e.g. `rook-ceph.rbd.csi.ceph.com`. */
  readonly provisioner: string;
  /**
   * The StorageClass name (cluster-scoped).
   * @default - derived from the construct path
   */
  readonly name?: string;
  /**
   * Driver parameters.
   * @default - none
   */
  readonly parameters?: { [key: string]: string };
  /**
   * Reclaim policy of provisioned volumes.
   * @default ReclaimPolicy.RETAIN - database volumes outlive their claims
   */
  readonly reclaimPolicy?: ReclaimPolicy;
  /**
   * Binding mode.
   * @default VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER
   */
  readonly volumeBindingMode?: VolumeBindingMode;
  /**
   * Whether claims may be grown by editing their size.
   * @default true
   */
  readonly allowVolumeExpansion?: boolean;
  /**
   * Mount options for provisioned volumes.
   * @default - none
   */
  readonly mountOptions?: string[];
  /**
   * Mark this class as the cluster default.
   * @default false
   */
  readonly isDefault?: boolean;
}

/** Options shared by the StorageClass presets. */
export interface StorageClassPresetOptions {
  /**
   * The StorageClass name.
   * @default - derived from the construct path
   */
  readonly name?: string;
  /**
   * Reclaim policy.
   * @default ReclaimPolicy.RETAIN
   */
  readonly reclaimPolicy?: ReclaimPolicy;
  /**
   * Extra driver parameters, merged over the preset's.
   * @default - the preset's parameters
   */
  readonly parameters?: { [key: string]: string };
}

/** Options of `StorageClass.cephRbd`. */
export interface CephRbdOptions extends StorageClassPresetOptions {
  /**
   * The Ceph cluster id (the Rook namespace with Rook).
   * @default 'rook-ceph'
   */
  readonly clusterId?: string;
  /**
   * The RBD pool.
   * @default 'replicapool'
   */
  readonly pool?: string;
  /**
   * Filesystem created on the image.
   * @default 'ext4'
   */
  readonly fsType?: string;
  /**
   * Namespace of the CSI secrets.
   * @default - same as `clusterId`
   */
  readonly secretNamespace?: string;
}

/**
 * A StorageClass, with presets for the clusters our users run: Ceph RBD
 * (Rook), AWS EBS gp3, GCE PD SSD, Azure managed disks and Alibaba Cloud
 * ESSD. Every preset retains volumes, binds on first consumer (so the volume
 * lands in the pod's zone) and allows expansion.
 */
export class StorageClass extends Construct {
  /** Ceph RBD through the Rook CSI driver `rook-ceph.rbd.csi.ceph.com`. */
  public static cephRbd(scope: Construct, id: string, options: CephRbdOptions = {}): StorageClass {
    const clusterId = options.clusterId ?? 'rook-ceph';
    const ns = options.secretNamespace ?? clusterId;
    return new StorageClass(scope, id, {
      ...options,
      provisioner: 'rook-ceph.rbd.csi.ceph.com',
      parameters: {
        'clusterID': clusterId,
        'pool': options.pool ?? 'replicapool',
        'imageFormat': '2',
        'imageFeatures': 'layering',
        'csi.storage.k8s.io/provisioner-secret-name': 'rook-csi-rbd-provisioner',
        'csi.storage.k8s.io/provisioner-secret-namespace': ns,
        'csi.storage.k8s.io/controller-expand-secret-name': 'rook-csi-rbd-provisioner',
        'csi.storage.k8s.io/controller-expand-secret-namespace': ns,
        'csi.storage.k8s.io/node-stage-secret-name': 'rook-csi-rbd-node',
        'csi.storage.k8s.io/node-stage-secret-namespace': ns,
        'csi.storage.k8s.io/fstype': options.fsType ?? 'ext4',
        ...(options.parameters ?? {}),
      },
    });
  }

  /** AWS EBS gp3 through `ebs.csi.aws.com`, encrypted. */
  public static awsGp3(scope: Construct, id: string, options: StorageClassPresetOptions = {}): StorageClass {
    return new StorageClass(scope, id, {
      ...options,
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true', ...(options.parameters ?? {}) },
    });
  }

  /** Google Persistent Disk SSD through `pd.csi.storage.gke.io`. */
  public static gcePdSsd(scope: Construct, id: string, options: StorageClassPresetOptions = {}): StorageClass {
    return new StorageClass(scope, id, {
      ...options,
      provisioner: 'pd.csi.storage.gke.io',
      parameters: { type: 'pd-ssd', ...(options.parameters ?? {}) },
    });
  }

  /** Azure managed disk (Premium SSD, locally redundant) through `disk.csi.azure.com`. */
  public static azureManagedDisk(scope: Construct, id: string, options: StorageClassPresetOptions = {}): StorageClass {
    return new StorageClass(scope, id, {
      ...options,
      provisioner: 'disk.csi.azure.com',
      parameters: { skuName: 'Premium_LRS', ...(options.parameters ?? {}) },
    });
  }

  /** Alibaba Cloud ESSD through `diskplugin.csi.alibabacloud.com` (the `alicloud-disk-ssd` class). */
  public static alibabaCloudSsd(scope: Construct, id: string, options: StorageClassPresetOptions = {}): StorageClass {
    return new StorageClass(scope, id, {
      name: 'alicloud-disk-ssd',
      ...options,
      provisioner: 'diskplugin.csi.alibabacloud.com',
      parameters: { type: 'cloud_essd', ...(options.parameters ?? {}) },
    });
  }

  /** The StorageClass name claims refer to. */
  public readonly name: string;
  /** The underlying API object. */
  public readonly apiObject: k8s.KubeStorageClass;

  public constructor(scope: Construct, id: string, props: StorageClassProps) {
    super(scope, id);
    const problem = new Problem('StorageClass', this);
    if (!props.provisioner) {
      throw problem.error('provisioner', 'must name a CSI driver or provisioner, got an empty string');
    }
    this.apiObject = new k8s.KubeStorageClass(this, 'Resource', {
      metadata: {
        ...(props.name ? { name: problem.dnsLabel('name', props.name, 253) } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'cdk8s-stateful' },
        ...(props.isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
      },
      provisioner: props.provisioner,
      parameters: props.parameters,
      reclaimPolicy: props.reclaimPolicy ?? ReclaimPolicy.RETAIN,
      volumeBindingMode: props.volumeBindingMode ?? VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
      allowVolumeExpansion: props.allowVolumeExpansion ?? true,
      mountOptions: props.mountOptions,
    });
    this.name = this.apiObject.name;
  }
}
