/**
 * One watch on Mantrid's keys that survives lost connections: it always
 * resumes from the revision after the last one it passed on, never from
 * where the client library guesses (it resumes from the header of the last
 * answer, which can be past events etcd had still to send). A watch that
 * etcd cancels (its start revision was compacted away) is reported, and
 * the owner reads the whole table again and starts a new feed.
 */
import type { IEvent, IWatchResponse, Watcher } from "etcd3";
import { type EtcdClient, reasonOf, WATCH_CONNECT_MS } from "./client.ts";
import type { KeyRange } from "./keys.ts";

export interface FeedHandlers {
  /** Events in revision order, as etcd sent them; one revision's events are never split. */
  events(events: IEvent[]): void;
  /** etcd confirmed the watch: it is reachable. */
  connected(): void;
  /** The connection was lost; the feed tries again by itself. */
  lost(reason: string): void;
  /** etcd ended the watch (a compacted start revision): the feed has stopped. */
  canceled(reason: string): void;
}

/** Waits between attempts, doubling up to the last. */
const RETRY_MS = [100, 200, 500, 1000, 2000];

export class WatchFeed {
  private watcher: Watcher | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly range: KeyRange,
    /** The first revision to ask for. */
    private next: number,
    private readonly on: FeedHandlers,
  ) {
    this.open();
  }

  /** The revision the feed resumes from. */
  get resumeFrom(): number {
    return this.next;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.drop();
  }

  private open(): void {
    if (this.stopped) return;
    const watcher = this.client.etcd
      .watch()
      .inRange({ start: this.range.start, end: this.range.end })
      .startRevision(String(this.next))
      .watcher();
    this.watcher = watcher;
    const mine = () => this.watcher === watcher;
    this.timer = setTimeout(() => {
      if (mine()) this.retry(`etcd did not confirm the watch within ${WATCH_CONNECT_MS} ms`);
    }, WATCH_CONNECT_MS);
    watcher.on("connected", () => {
      if (!mine()) return;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.attempts = 0;
      this.on.connected();
    });
    watcher.on("data", (response: IWatchResponse) => {
      if (mine()) this.receive(response);
    });
    watcher.on("disconnected", (error: unknown) => {
      if (mine()) this.retry(reasonOf(error));
    });
    watcher.on("error", (error: unknown) => {
      if (!mine()) return;
      this.stopped = true;
      this.drop();
      this.on.canceled(reasonOf(error));
    });
  }

  private receive(response: IWatchResponse): void {
    const events = response.events;
    if (events.length > 0) {
      this.next = Number(events[events.length - 1]!.kv.mod_revision) + 1;
      this.on.events(events);
    } else {
      // A progress report: every later event is past the header's revision.
      this.next = Math.max(this.next, Number(response.header.revision) + 1);
    }
  }

  private retry(reason: string): void {
    this.drop();
    if (this.stopped) return;
    this.on.lost(reason);
    const wait = RETRY_MS[Math.min(this.attempts++, RETRY_MS.length - 1)]!;
    this.timer = setTimeout(() => this.open(), wait);
  }

  /** Forgets the current watcher; the library must not resume it on its own. */
  private drop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const watcher = this.watcher;
    this.watcher = null;
    if (watcher !== null) void watcher.cancel().catch(() => {});
  }
}
