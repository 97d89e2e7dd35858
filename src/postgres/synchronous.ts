/**
 * Whether a commit on the primary waits for standbys: asynchronous (the
 * default: a commit returns once it is durable on the primary) or quorum
 * commit, where it also waits until `n` of the standbys have flushed it.
 */
export class PostgresSynchronousCommit {
  /** Asynchronous replication: commits never wait for a standby. */
  public static off(): PostgresSynchronousCommit {
    return new PostgresSynchronousCommit(0, false);
  }

  /**
   * Quorum commit (`synchronous_standby_names = 'ANY n (*)'`): a commit waits
   * until any `n` standbys have flushed it, so it survives the loss of the
   * primary's disk. While fewer than `n` standbys stream, commits wait.
   */
  public static any(n: number): PostgresSynchronousCommit {
    return new PostgresSynchronousCommit(n, true);
  }

  private constructor(
    /** @internal */ public readonly _quorum: number,
    /** @internal */ public readonly _synchronous: boolean,
  ) {}

  /** Standbys a commit waits for (0: asynchronous). */
  public get quorum(): number {
    return this._quorum;
  }
}
