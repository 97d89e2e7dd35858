// JVM sizing, shared by the JVM systems (ZooKeeper, Kafka brokers and controllers).
import { Size, SizeRoundingBehavior } from 'cdk8s';
import { Problem } from './names';
import { Resources } from './resources';

/**
 * The JVM heap in MiB: `heap`, or half the memory limit of `resources`. It
 * must be at least `minimum` MiB and leave room for the JVM's own memory:
 * at most 75% of the limit.
 * @internal
 */
export function jvmHeapMebibytes(problem: Problem, heap: Size | undefined, resources: Resources, minimum: number): number {
  problem.instanceOf('heap', heap, Size, 'a Size such as Size.gibibytes(1)');
  const limit = resources.memoryLimitMebibytes;
  const mebibytes = heap ? heap.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) : Math.floor(limit / 2);
  const maxHeap = Math.floor(limit * 0.75);
  if (!(mebibytes >= minimum) || mebibytes > maxHeap) {
    throw problem.error('heap', `(${mebibytes}Mi) must be at least ${minimum}Mi and fit in the memory limit (${limit}Mi) with room for the JVM's own memory: at most 75% of it, ${maxHeap}Mi`);
  }
  return mebibytes;
}
