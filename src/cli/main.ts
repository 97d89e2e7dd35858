#!/usr/bin/env node
/**
 * `cdk8s-stateful`: day-2 operations on the StatefulSets the constructs
 * render, through kubectl: staged rollouts with health gates, scaling with
 * each system's steps, storage expansion, and a status table.
 */
import { choiceOption, OptionSpec, parseArgs, ParsedArgs, positionals, stringOption } from './args';
import { CliError, EXIT, usageError } from './errors';
import { expandStorage } from './expand-storage';
import { Kubectl } from './kubectl';
import { rollout } from './rollout';
import { scale } from './scale';
import { status } from './status';
import { parseDuration } from './units';
import { Output } from './workload';

const GLOBAL: OptionSpec[] = [
  { name: 'kubectl', value: true },
  { name: 'kubeconfig', value: true },
  { name: 'context', value: true },
  { name: 'namespace', short: 'n', value: true },
  { name: 'help', short: 'h', value: false },
];

const GLOBAL_HELP = `Global options (before or after the command):
  --kubectl PATH        the kubectl to run (default: kubectl on PATH)
  --kubeconfig FILE     kubeconfig for kubectl
  --context NAME        kubeconfig context
  -n, --namespace NS    namespace of the StatefulSet (default: the context's)
  -h, --help            this help, or a command's

Exit codes: 0 done; 1 a health gate or kubectl failed; 2 bad arguments;
3 refused before changing anything; 4 timed out.`;

const GATE_HELP = `  --gate auto|none      auto (default): the system's health checks, found by the
                        StatefulSet's app.kubernetes.io/name and component labels;
                        none: readiness only
  --gate-timeout DUR    how long the checks may take to pass once pods are Ready (default 2m)`;

interface Command {
  readonly summary: string;
  readonly help: string;
  readonly options: OptionSpec[];
  run(k: Kubectl, o: Output, args: ParsedArgs): Promise<number>;
}

const gateOptions: OptionSpec[] = [{ name: 'gate', value: true }, { name: 'gate-timeout', value: true }];

const COMMANDS: { [name: string]: Command } = {
  'rollout': {
    summary: 'staged partition rollout with a health gate after each stage, or --undo',
    help: `Usage: cdk8s-stateful rollout <statefulset> [--stages 1,50%,100%] [--timeout 10m] [--undo]

Rolls the StatefulSet's new pod template out in stages by lowering
spec.updateStrategy.rollingUpdate.partition: the StatefulSet controller updates
the pods at ordinals >= partition, highest first. After each stage the CLI waits
until those pods run the update revision (status.updateRevision) and are Ready,
then runs the system's health gate: ZooKeeper quorum (srvr: one leader), Kafka
under-replicated partitions, Redis cluster_state:ok on every node, MySQL/MariaDB
replica IO and SQL threads, PostgreSQL standbys streaming, MongoDB one PRIMARY
and SECONDARY others. A failed gate or a timeout stops the rollout with a report;
the partition stays where it was, so run again to continue or --undo.

Flow: apply the new template with the partition at the replica count
(UpdateStrategy.rollingUpdate(replicas) on the construct, so nothing restarts
yet), then run the rollout. Running it again after a stop continues.

Options:
  --stages LIST         pods updated after each stage: a count (1), a share of the
                        replicas rounded up (50%) or all; increasing, ending at 100%
                        or all (default 1,50%,100%: one pod, half, all; each
                        count once, so 1,100% for two pods)
  --timeout DUR         longest wait for one stage's pods (default 10m)
  --undo                go back to the revision the not-updated pods run
                        (status.currentRevision; after a finished rollout, the one
                        before) with kubectl rollout undo --to-revision, and wait
                        until the updated pods run it again
${GATE_HELP}`,
    options: [{ name: 'stages', value: true }, { name: 'timeout', value: true }, { name: 'undo', value: false }, ...gateOptions],
    run: async (k, o, args) => {
      const [name] = positionals('rollout', args, ['statefulset']);
      await rollout(k, o, {
        name,
        stages: stringOption(args, 'stages'),
        timeoutMs: parseDuration('--timeout', stringOption(args, 'timeout') ?? '10m'),
        undo: args.options.undo === true,
        gate: choiceOption('rollout', args, 'gate', ['auto', 'none'], 'auto'),
        gateTimeoutMs: parseDuration('--gate-timeout', stringOption(args, 'gate-timeout') ?? '2m'),
      });
      return EXIT.OK;
    },
  },
  'scale': {
    summary: 'change the replicas with the system\'s steps',
    help: `Usage: cdk8s-stateful scale <statefulset> <replicas> [--timeout 10m]

Changes spec.replicas and waits until exactly the pods below <replicas> exist and
are Ready, with each system's steps:
  ZooKeeper   refuses even counts, and any count zoo.cfg does not list (a static
              ensemble: change replicas on the construct and roll it out)
  Kafka       refuses a scale-down while partitions have replicas on the brokers
              being removed (says which, and how to reassign them), and a scale-up
              beyond the brokers the start script was rendered for
  Redis       refuses to remove masters that hold slots (reshard first); prints the
              CLUSTER FORGET commands for removed nodes; refuses scale-ups (new nodes
              must be added with redis-cli --cluster add-node)
  PostgreSQL  drops the replication slots (standby_<ordinal>) of removed standbys on
              the primary; refuses counts beyond the rendered slots.sh
  MongoDB     rs.remove of the members before their pods go, rs.add of new members;
              refuses when the primary would be removed, or with an arbiter
Then runs the system's health checks. Set the same replicas on the construct
before the next apply, or the apply changes them back.

Options:
  --timeout DUR         longest wait for the pods (default 10m)
${GATE_HELP}`,
    options: [{ name: 'timeout', value: true }, ...gateOptions],
    run: async (k, o, args) => {
      const [name, count] = positionals('scale', args, ['statefulset', 'replicas']);
      if (!/^\d+$/.test(count)) throw usageError(`scale: <replicas> must be a whole number of pods (0 or more), got '${count}'`);
      await scale(k, o, {
        name, replicas: Number(count),
        timeoutMs: parseDuration('--timeout', stringOption(args, 'timeout') ?? '10m'),
        gate: choiceOption('scale', args, 'gate', ['auto', 'none'], 'auto'),
        gateTimeoutMs: parseDuration('--gate-timeout', stringOption(args, 'gate-timeout') ?? '2m'),
      });
      return EXIT.OK;
    },
  },
  'expand-storage': {
    summary: 'grow the claims of a StatefulSet and its claim template',
    help: `Usage: cdk8s-stateful expand-storage <statefulset> <size> [--claim data] [--timeout 10m]

volumeClaimTemplates are immutable, so: checks that the claims' StorageClass has
allowVolumeExpansion: true (and refuses to shrink), patches each existing claim
<claim>-<statefulset>-<ordinal> to <size> and waits for status.capacity, one claim
at a time (a pod whose file system grows only on a fresh mount,
FileSystemResizePending, is restarted alone); then deletes the StatefulSet with
--cascade=orphan, so the pods keep running, and creates it again from the live
object with the new template size. It adopts the same pods: none restarts.
Set the same size on the construct before the next apply.

Options:
  --claim NAME          the claim template (default: the only one, else data)
  --timeout DUR         longest wait for each claim, and for the new StatefulSet (default 10m)
  --online-wait DUR     how long the kubelet may take to grow a mounted file system
                        before the CLI restarts the pod (default 1m)`,
    options: [{ name: 'claim', value: true }, { name: 'timeout', value: true }, { name: 'online-wait', value: true }],
    run: async (k, o, args) => {
      const [name, size] = positionals('expand-storage', args, ['statefulset', 'size']);
      await expandStorage(k, o, {
        name, size, claim: stringOption(args, 'claim'),
        timeoutMs: parseDuration('--timeout', stringOption(args, 'timeout') ?? '10m'),
        onlineWaitMs: parseDuration('--online-wait', stringOption(args, 'online-wait') ?? '1m'),
      });
      return EXIT.OK;
    },
  },
  'status': {
    summary: 'members, roles, readiness, revisions and lag as a table',
    help: `Usage: cdk8s-stateful status <statefulset> [-o table|json]

Prints the StatefulSet's members: pod, ordinal, ready, revision (current or
update), the role and lag the system reports (by the same checks as the health
gate, run in each pod), and restarts; then what the checks found. Exits 1 when a
member is not Ready or a check finds a problem.

Options:
  -o, --output FORMAT   table (default) or json
  --gate auto|none      none: skip the checks in the pods (no role or lag)`,
    options: [{ name: 'output', short: 'o', value: true }, { name: 'gate', value: true }],
    run: async (k, o, args) => {
      const [name] = positionals('status', args, ['statefulset']);
      const healthy = status(k, o, {
        name,
        gate: choiceOption('status', args, 'gate', ['auto', 'none'], 'auto'),
        output: choiceOption('status', args, 'output', ['table', 'json'], 'table'),
      });
      return healthy ? EXIT.OK : EXIT.FAILED;
    },
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: cdk8s-stateful <command> <statefulset> [options]

Day-2 operations on the StatefulSets of cdk8s-stateful, through kubectl.

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join('\n')}

Run cdk8s-stateful <command> --help for a command's options.

${GLOBAL_HELP}`;
}

/** Runs one command line; the exit code. Never throws. */
export async function run(argv: string[], o: Output): Promise<number> {
  try {
    // a global option's value is not the command: skip values of options that take one
    let i = 0;
    let name: string | undefined;
    for (; i < argv.length; i++) {
      const a = argv[i];
      const spec = GLOBAL.find((s) => a === `--${s.name}` || (s.short && a === `-${s.short}`));
      if (spec?.value) { i++; continue; }
      if (!a.startsWith('-')) { name = a; break; }
    }
    if (name === 'help') {
      const topic = argv[i + 1];
      o.out(topic && COMMANDS[topic] ? `${COMMANDS[topic].help}\n\n${GLOBAL_HELP}` : mainHelp());
      return EXIT.OK;
    }
    if (name === undefined) {
      if (argv.includes('--help') || argv.includes('-h')) {
        o.out(mainHelp());
        return EXIT.OK;
      }
      throw usageError(`no command given\n\n${mainHelp()}`);
    }
    const command = COMMANDS[name];
    if (!command) throw usageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}; see cdk8s-stateful --help)`);
    const args = parseArgs(name, [...argv.slice(0, i), ...argv.slice(i + 1)], [...GLOBAL, ...command.options]);
    if (args.options.help) {
      o.out(`${command.help}\n\n${GLOBAL_HELP}`);
      return EXIT.OK;
    }
    const k = new Kubectl({
      kubectl: stringOption(args, 'kubectl') ?? 'kubectl',
      kubeconfig: stringOption(args, 'kubeconfig'),
      context: stringOption(args, 'context'),
      namespace: stringOption(args, 'namespace'),
    });
    return await command.run(k, o, args);
  } catch (e) {
    if (e instanceof CliError) {
      o.err(`cdk8s-stateful: ${e.message}`);
      return e.exitCode;
    }
    o.err(`cdk8s-stateful: unexpected error: ${(e as Error).stack ?? e}`);
    return EXIT.FAILED;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then((code) => { process.exitCode = code; });
}
