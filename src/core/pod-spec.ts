import { createHash } from 'crypto';
import { posix } from 'path';
import * as kplus from 'cdk8s-plus-27';
import { Problem } from './names';
import { envVar } from './private/kplus';
import { k8s } from './private/k8s';
import { Probe } from './probes';
import { checkedResources, Resources } from './resources';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, RunAs } from './security';
import { Storage } from './storage';
import { ImagePullPolicy } from './system';

/** Who may connect to a port (drives the NetworkPolicy and the client Service). */
export enum PortRole {
  /** Clients of the system: exposed by the client Service, open to declared clients. */
  CLIENT = 'client',
  /** Members talking to each other (replication, quorum, gossip): open to peers only. */
  PEER = 'peer',
  /** Metrics scraped by Prometheus: open to every namespace. */
  METRICS = 'metrics',
}

/** A port a container listens on. */
export interface WorkloadPort {
  /** Port name (at most 15 characters), referenced by probes and Services. */
  readonly name: string;
  /** Port number, on the Services and (unless `containerPort`) in the container. */
  readonly port: number;
  /**
   * Port the container listens on, when it differs from `port`.
   * @default - same as `port`
   */
  readonly containerPort?: number;
  /**
   * Who connects to it.
   * @default PortRole.CLIENT
   */
  readonly role?: PortRole;
}

/** A volume mounted into a container. */
export interface WorkloadMount {
  /** Name of a volume of the pod (`volumes` or `secretVolumes`). */
  readonly volume: string;
  /** Absolute mount path. */
  readonly path: string;
  /**
   * Mount only this sub-path of the volume.
   * @default - the whole volume
   */
  readonly subPath?: string;
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** A container of a pod: main container, sidecar, init container or one-shot Job. */
export interface WorkloadContainer {
  /** Container name (DNS label). */
  readonly name: string;
  /**
   * Image with a pinned tag or digest (never `latest`).
   * @default - the workload's `image`
   */
  readonly image?: string;
  /**
   * Entrypoint.
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's cmd
   */
  readonly args?: string[];
  /**
   * Environment variables: literal values, Secret keys, field references
   * (`kplus.EnvValue.fromValue`, `.fromSecretValue`, `.fromFieldRef`, ...).
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };
  /**
   * Ports the container listens on.
   * @default - none
   */
  readonly ports?: WorkloadPort[];
  /**
   * Volumes to mount (config files are mounted automatically).
   * @default - none
   */
  readonly mounts?: WorkloadMount[];
  /**
   * CPU and memory.
   * @default - the workload's `resources` for containers, `Resources.tiny()` for init containers and Jobs
   */
  readonly resources?: Resources;
  /**
   * Readiness probe: when the pod receives traffic and counts as Ready.
   * @default - none
   */
  readonly readinessProbe?: Probe;
  /**
   * Liveness probe: when the container is restarted. Keep it more tolerant
   * than readiness.
   * @default - none
   */
  readonly livenessProbe?: Probe;
  /**
   * Startup probe: holds off liveness while a slow start completes.
   * @default - none
   */
  readonly startupProbe?: Probe;
  /**
   * Command run before the container is stopped (graceful shutdown).
   * @default - none
   */
  readonly preStop?: string[];
  /**
   * Mount the root filesystem read-only. Turn off only for images that write
   * outside their volumes and cannot be configured otherwise.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Working directory.
   * @default - the image's
   */
  readonly workingDir?: string;
}

/** A data volume of each pod. */
export interface WorkloadVolume {
  /** Volume name, referenced by container mounts (and the claim name prefix). */
  readonly name: string;
  /**
   * Persistent (a claim template) or ephemeral (an emptyDir).
   * @default - the workload's `storage`
   */
  readonly storage?: Storage;
}

/** A Secret mounted as files. */
export interface SecretVolume {
  /** Volume name, referenced by container mounts. */
  readonly name: string;
  /** The Secret's name. */
  readonly secretName: string;
  /**
   * Only these keys, as files of the same name.
   * @default - every key
   */
  readonly keys?: string[];
}

/** A file rendered into the workload's ConfigMap and mounted at `path` in every container. */
export interface ConfigFile {
  /** Absolute path of the file in the containers; its directory becomes a mount. */
  readonly path: string;
  /** File contents. */
  readonly content: string;
  /**
   * Mark the file executable (scripts).
   * @default false
   */
  readonly executable?: boolean;
}

/**
 * What a pod is made of, before defaults.
 * @internal
 */
export interface PodSpecInput {
  readonly problem: Problem;
  readonly runAs: RunAs;
  readonly containers: WorkloadContainer[];
  readonly initContainers?: WorkloadContainer[];
  /** Image of containers that name none. */
  readonly image?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Resources of containers that set none. */
  readonly resources: Resources;
  readonly volumes?: WorkloadVolume[];
  /** Storage of volumes that set none. */
  readonly storage?: Storage;
  readonly secretVolumes?: SecretVolume[];
  readonly configFiles?: ConfigFile[];
  /** Name of the ConfigMap that holds `configFiles`. */
  readonly configMapName?: string;
  /** Jobs: ports are not allowed. */
  readonly oneShot?: boolean;
}

/** A resolved data volume. */
interface ResolvedVolume {
  readonly name: string;
  readonly storage: Storage;
}

/**
 * The one way this library builds a pod: validates containers, ports,
 * probes, volumes and mounts (every problem is a construction-time error
 * that names the construct), and renders containers with the restricted
 * security context, explicit resources, `IfNotPresent` pulls and the config
 * files mounted. StatefulSets, one-shot Jobs and CronJobs all use it.
 * @internal
 */
export class PodBuilder {
  /** Every port of the pod's containers. */
  public readonly ports: WorkloadPort[];
  /** Data volumes with their storage resolved. */
  public readonly volumes: ResolvedVolume[];
  /** sha256 of the config files: a change rolls the pods. */
  public readonly configHash: string;
  /** The config files as ConfigMap data (file name -> content). */
  public readonly configData: { [key: string]: string };

  private readonly problem: Problem;
  private readonly configVolumes: { dir: string; volume: k8s.Volume }[];

  public constructor(private readonly input: PodSpecInput) {
    const problem = input.problem;
    this.problem = problem;
    checkedResources(problem, 'resources', input.resources);
    if (input.containers.length === 0) throw problem.error('containers', 'must contain at least one container');
    const all = [...(input.initContainers ?? []), ...input.containers];
    const names = new Set<string>();
    for (const c of all) {
      problem.dnsLabel('containers[].name', c.name);
      if (names.has(c.name)) throw problem.error('containers', `has two containers named '${c.name}'; container names must be unique`);
      names.add(c.name);
      checkImage(problem, c.name, c.image ?? input.image);
      if (c.resources !== undefined) checkedResources(problem, `container '${c.name}' resources`, c.resources);
      for (const [n, v] of Object.entries(c.env ?? {})) {
        problem.instanceOf(`container '${c.name}' env '${n}'`, v, kplus.EnvValue, 'a kplus.EnvValue such as EnvValue.fromValue(...) or EnvValue.fromSecretValue(...)');
      }
    }
    if (input.oneShot) {
      for (const c of input.containers) {
        if (c.ports && c.ports.length > 0) throw problem.error(`container '${c.name}' ports`, 'are not allowed: a one-shot Job serves no traffic');
      }
    }
    this.ports = this.collectPorts(input.containers, input.initContainers ?? []);
    this.volumes = (input.volumes ?? []).map((v) => {
      const storage = problem.instanceOf(`volume '${v.name}' storage`, v.storage ?? input.storage, Storage,
        'Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral()');
      if (!storage) throw problem.error(`volume '${v.name}' storage`, 'is required (or set the workload\'s storage)');
      storage._validate(problem, v.storage ? `volume '${v.name}' storage` : 'storage');
      if (input.oneShot && storage.isPersistent) throw problem.error(`volume '${v.name}'`, 'must be ephemeral or Storage.existingClaim in a one-shot Job (claim templates belong to StatefulSets)');
      return { name: v.name, storage };
    });
    const files = input.configFiles ?? [];
    this.configVolumes = this.collectConfigVolumes(files);
    this.configData = Object.fromEntries(files.map((f) => [posix.basename(f.path), f.content]));
    this.configHash = createHash('sha256')
      .update(JSON.stringify(files.map((f) => [f.path, f.content, !!f.executable])))
      .digest('hex');
    this.checkMounts(all);
  }

  /** Persistent volumes: the StatefulSet's claim templates. */
  public get claims(): ResolvedVolume[] {
    return this.volumes.filter((v) => v.storage.isPersistent);
  }

  /** True when there are config files (and so a ConfigMap to create). */
  public get hasConfig(): boolean {
    return this.configVolumes.length > 0;
  }

  /** The pod-level security context: restricted, as `runAs`. */
  public securityContext(): k8s.PodSecurityContext {
    return restrictedPodSecurityContext(this.input.runAs);
  }

  /** The rendered init containers, or undefined. */
  public initContainers(): k8s.Container[] | undefined {
    const init = this.input.initContainers ?? [];
    return init.length > 0 ? init.map((c) => this.container(c, Resources.tiny())) : undefined;
  }

  /** The rendered containers. */
  public containers(): k8s.Container[] {
    return this.input.containers.map((c) => this.container(c, this.input.oneShot ? Resources.tiny() : this.input.resources));
  }

  /** The pod volumes (config, Secrets, emptyDirs; claims come from the templates). */
  public podVolumes(): k8s.Volume[] | undefined {
    const volumes = [
      ...this.configVolumes.map((cv) => cv.volume),
      ...(this.input.secretVolumes ?? []).map((s) => ({
        name: s.name,
        secret: {
          secretName: s.secretName,
          defaultMode: 0o440,
          ...(s.keys ? { items: s.keys.map((k) => ({ key: k, path: k })) } : {}),
        },
      })),
      ...this.volumes.filter((v) => !v.storage.isPersistent).map((v) => v.storage._podVolume(v.name)),
    ];
    return volumes.length > 0 ? volumes : undefined;
  }

  /** The port named `name`; throws if there is none. */
  public port(name: string): WorkloadPort {
    const p = this.ports.find((x) => x.name === name);
    if (!p) throw this.problem.error('ports', `have no port named '${name}'; ports: ${this.ports.map((x) => x.name).join(', ') || 'none'}`);
    return p;
  }

  private container(c: WorkloadContainer, defaults: Resources): k8s.Container {
    const env = Object.entries(c.env ?? {}).map(([n, v]) => envVar(n, v));
    const configMounts = this.configVolumes.map((cv) => ({ name: cv.volume.name, mountPath: cv.dir, readOnly: true }));
    const mounts = [
      ...configMounts,
      ...(c.mounts ?? []).map((m) => ({
        name: m.volume,
        mountPath: m.path,
        ...(m.subPath ? { subPath: m.subPath } : {}),
        ...(m.readOnly ? { readOnly: true } : {}),
      })),
    ];
    return {
      name: c.name,
      image: c.image ?? this.input.image,
      imagePullPolicy: this.input.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
      ...(c.command ? { command: c.command } : {}),
      ...(c.args ? { args: c.args } : {}),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      ...(env.length > 0 ? { env } : {}),
      ...(c.ports && c.ports.length > 0
        ? { ports: c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort ?? p.port, protocol: 'TCP' })) }
        : {}),
      resources: (c.resources ?? defaults)._render(),
      securityContext: restrictedContainerSecurityContext(c.readOnlyRootFilesystem ?? true),
      ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
      ...(c.readinessProbe ? { readinessProbe: c.readinessProbe._render() } : {}),
      ...(c.livenessProbe ? { livenessProbe: c.livenessProbe._render() } : {}),
      ...(c.startupProbe ? { startupProbe: c.startupProbe._render() } : {}),
      ...(c.preStop ? { lifecycle: { preStop: { exec: { command: c.preStop } } } } : {}),
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
  }

  private collectPorts(containers: WorkloadContainer[], initContainers: WorkloadContainer[]): WorkloadPort[] {
    const problem = this.problem;
    for (const c of initContainers) {
      if (c.ports && c.ports.length > 0) throw problem.error(`init container '${c.name}' ports`, 'are not allowed: init containers do not serve traffic');
    }
    const seen = new Map<string, WorkloadPort>();
    const numbers = new Set<number>();
    for (const c of containers) {
      for (const p of c.ports ?? []) {
        problem.portName(`container '${c.name}' ports`, p.name);
        if (seen.has(p.name)) throw problem.error('ports', `has two ports named '${p.name}'; port names must be unique in a pod`);
        problem.integer(`port '${p.name}'`, p.port, 1, 65535);
        const cp = problem.integer(`port '${p.name}' containerPort`, p.containerPort ?? p.port, 1, 65535);
        if (numbers.has(cp)) throw problem.error('ports', `use container port ${cp} twice`);
        numbers.add(cp);
        seen.set(p.name, p);
      }
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        problem.instanceOf(`container '${c.name}' probes`, probe, Probe, 'a Probe such as Probe.tcp(portName)');
        if (probe?.portName && !(c.ports ?? []).some((p) => p.name === probe.portName)) {
          throw problem.error(`container '${c.name}' probes`, `target port '${probe.portName}', which the container does not declare`);
        }
      }
    }
    return [...seen.values()];
  }

  private collectConfigVolumes(files: ConfigFile[]): { dir: string; volume: k8s.Volume }[] {
    const problem = this.problem;
    const keys = new Set<string>();
    const dirs = new Map<string, ConfigFile[]>();
    for (const f of files) {
      if (!posix.isAbsolute(f.path) || f.path.endsWith('/')) throw problem.error('configFiles', `need absolute file paths, got '${f.path}'`);
      const key = posix.basename(f.path);
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw problem.error('configFiles', `file name '${key}' may contain only letters, digits, '-', '_' and '.'`);
      if (keys.has(key)) throw problem.error('configFiles', `has two files named '${key}'; file names must be unique across directories (they share one ConfigMap)`);
      keys.add(key);
      const dir = posix.dirname(f.path);
      dirs.set(dir, [...(dirs.get(dir) ?? []), f]);
    }
    if (files.length > 0 && !this.input.configMapName) throw problem.error('configFiles', 'need a ConfigMap, which this pod does not have');
    return [...dirs.entries()].map(([dir, fs], i) => ({
      dir,
      volume: {
        name: `config-${i}`,
        configMap: {
          name: this.input.configMapName!,
          defaultMode: 0o444,
          items: fs.map((f) => ({ key: posix.basename(f.path), path: posix.basename(f.path), ...(f.executable ? { mode: 0o555 } : {}) })),
        },
      },
    }));
  }

  private checkMounts(all: WorkloadContainer[]): void {
    const problem = this.problem;
    const secretVolumes = this.input.secretVolumes ?? [];
    const volumeNames = new Set<string>();
    for (const v of [...this.volumes.map((x) => x.name), ...secretVolumes.map((x) => x.name), ...this.configVolumes.map((x) => x.volume.name)]) {
      problem.dnsLabel('volumes[].name', v);
      if (volumeNames.has(v)) throw problem.error('volumes', `has two volumes named '${v}'; volume names must be unique`);
      volumeNames.add(v);
    }
    const mounted = new Set<string>();
    for (const c of all) {
      const paths = new Set<string>();
      for (const m of c.mounts ?? []) {
        if (!volumeNames.has(m.volume)) {
          throw problem.error(`container '${c.name}' mounts`, `name volume '${m.volume}', which does not exist; declared volumes: ${[...volumeNames].join(', ') || 'none'}`);
        }
        if (!posix.isAbsolute(m.path)) throw problem.error(`container '${c.name}' mounts`, `need absolute paths, got '${m.path}'`);
        if (paths.has(m.path)) throw problem.error(`container '${c.name}' mounts`, `mount two volumes at '${m.path}'`);
        paths.add(m.path);
        mounted.add(m.volume);
      }
    }
    for (const v of [...this.volumes, ...secretVolumes]) {
      if (!mounted.has(v.name)) {
        const what = 'storage' in v && v.storage.isPersistent ? 'claim template' : 'volume';
        throw problem.error('volumes', `declare ${what} '${v.name}' but no container mounts it; mount it or remove it`);
      }
    }
  }

}

function checkImage(problem: Problem, container: string, image: string | undefined): void {
  const prop = `container '${container}' image`;
  if (image === undefined) throw problem.error(prop, 'is required: set the container\'s image or the workload\'s image');
  const last = image.split('/').pop() ?? '';
  if (!image || /\s/.test(image)) throw problem.error(prop, `must be an image reference, got '${image}'`);
  if (!last.includes(':') && !last.includes('@')) {
    throw problem.error(prop, `'${image}' has no tag: pin a version (e.g. '${image}:1.2.3') or a digest so every pod runs the same software`);
  }
  if (last.endsWith(':latest')) {
    throw problem.error(prop, `'${image}' uses 'latest': pin a version so restarts cannot silently upgrade a stateful system`);
  }
}
