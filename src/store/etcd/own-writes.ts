/** This instance's writes to etcd, by the revisions etcd gave their transactions. */
import type { Change } from "../../rules/registry.ts";

export class OwnWrite {
  /** Every transaction's revision. */
  private readonly revisions = new Set<number>();
  /** The first transaction's revision; 0 before it is committed. */
  first = 0;
  /** The last transaction's revision, once all are committed; 0 before. */
  last = 0;
  /** The registry still waits for it to reach the table (it gives up after a deadline). */
  waiting = true;
  /** Another write landed between its first transaction (or its basis) and its last. */
  interleaved = false;
  /** Resolves once it is in the table. */
  readonly applied: Promise<void>;
  done!: () => void;

  constructor(
    readonly changes: readonly Change[],
    /** The revision the table was at when the write was worked out from it; null if it was not. */
    private readonly basis: number | null,
  ) {
    this.applied = new Promise((resolve) => {
      this.done = resolve;
    });
  }

  /** One more transaction is committed. */
  committed(revision: number): void {
    if (this.first === 0) this.first = revision;
    this.revisions.add(revision);
  }

  has(revision: number): boolean {
    return this.revisions.has(revision);
  }

  /** Whether another write at `revision` could have changed what this one did or assumed. */
  overlaps(revision: number): boolean {
    const from = this.basis ?? this.first;
    return this.first > 0 && from < revision && (this.last === 0 || revision < this.last);
  }
}

export class OwnWrites {
  private list: OwnWrite[] = [];

  add(write: OwnWrite): void {
    this.list.push(write);
  }

  remove(write: OwnWrite): void {
    this.list = this.list.filter((one) => one !== write);
  }

  at(revision: number): OwnWrite | null {
    for (const write of this.list) if (write.has(revision)) return write;
    return null;
  }

  /** A revision not ours is applied: does it fall inside a write of ours still being made? */
  seeForeign(revision: number): void {
    for (const write of this.list) if (write.overlaps(revision)) write.interleaved = true;
  }

  /** Takes out the whole writes a read at `revision` holds. */
  upTo(revision: number): OwnWrite[] {
    const covered = this.list.filter((write) => write.last > 0 && write.last <= revision);
    this.list = this.list.filter((write) => !covered.includes(write));
    return covered;
  }
}
