import { Json } from '../kubectl';
import { kafka } from './kafka';
import { mongo } from './mongodb';
import { mySql } from './mysql';
import { postgres } from './postgres';
import { redis } from './redis';
import { System } from './system';
import { zooKeeper } from './zookeeper';

export type { System } from './system';

/** The containerPort named `port` of `container` in the pod template, or `fallback`. */
function portOf(sts: Json, container: string, port: string, fallback: number): number {
  const c = (sts.spec.template.spec.containers ?? []).find((x: Json) => x.name === container);
  return (c?.ports ?? []).find((p: Json) => p.name === port)?.containerPort ?? fallback;
}

/**
 * The system a StatefulSet runs, from the labels every construct sets
 * (`app.kubernetes.io/name` is the system's `appName`, `app.kubernetes.io/component`
 * its role), when its pods have the container the checks run in; undefined
 * for anything else (a plain StatefulWorkload, or a StatefulSet of another tool).
 */
export function detectSystem(sts: Json): System | undefined {
  const labels: { [k: string]: string } = { ...sts.spec.template?.metadata?.labels, ...sts.metadata.labels };
  const name = labels['app.kubernetes.io/name'];
  const component = labels['app.kubernetes.io/component'] ?? '';
  let system: System | undefined;
  if (name === 'zookeeper' && component === 'server') system = zooKeeper(portOf(sts, 'zookeeper', 'client', 2181));
  else if (name === 'kafka' && (component === 'broker' || component === 'controller')) system = kafka(component, portOf(sts, 'kafka', 'client', 9092));
  else if (name === 'redis' && component === 'cluster') system = redis(portOf(sts, 'redis', 'client', 6379));
  else if ((name === 'mysql' || name === 'mariadb') && component === 'database') system = mySql(name);
  else if (name === 'postgresql' && component === 'database') system = postgres();
  else if (name === 'mongodb' && component === 'database') system = mongo(portOf(sts, 'mongod', 'mongodb', 27017));
  if (!system) return undefined;
  const containers: string[] = (sts.spec.template.spec.containers ?? []).map((c: Json) => c.name);
  return containers.includes(system.container) ? system : undefined;
}
