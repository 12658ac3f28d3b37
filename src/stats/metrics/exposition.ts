/**
 * The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, written
 * line by line, byte for byte as prom-client writes them (its test proves it
 * on random families): HELP and TYPE before each family's samples, a blank
 * line between families in the text format, a counter's family named without
 * its `_total` in OpenMetrics, histogram buckets cumulative with `le` as the
 * first label, and `# EOF` at the end of OpenMetrics. Lines are kept as
 * strings only until `flush`, which encodes them: a large exposition is never
 * one string that must be built, joined and encoded at once.
 */

export type Format = "prometheus" | "openmetrics";
export type MetricType = "counter" | "gauge" | "histogram";

export const CONTENT_TYPES: Record<Format, string> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

const encoder = new TextEncoder();

export class Exposition {
  private lines: string[] = [];
  private readonly chunks: Uint8Array<ArrayBuffer>[] = [];
  private flushed = 0;
  /** `<name>_bucket{le="<bound>"` of the last histogram family written, per bucket. */
  private buckets: { name: string; bounds: readonly number[]; starts: string[] } | null = null;

  constructor(readonly format: Format) {}

  /** Lines written so far. */
  get length(): number {
    return this.flushed + this.lines.length;
  }

  /** Lines written since the last flush. */
  get pending(): number {
    return this.lines.length;
  }

  /** Starts a family; its samples follow. A counter's name ends in `_total`. */
  family(name: string, type: MetricType, help: string): void {
    let familyName = name;
    if (this.format === "openmetrics") {
      if (type === "counter") familyName = name.replace(/_total$/, "");
    } else if (this.length > 0) this.lines.push("");
    this.lines.push(`# HELP ${familyName} ${escapeHelp(help)}`, `# TYPE ${familyName} ${type}`);
  }

  /** One sample; `labels` as `labels()` renders them ("" for none). */
  sample(name: string, labels: string, value: number): void {
    this.lines.push(`${name}${labels === "" ? "" : `{${labels}}`} ${formatValue(value)}`);
  }

  /** A histogram's samples from its slots (see buckets.ts) starting at `at`. */
  histogram(
    name: string,
    labels: string,
    slots: ArrayLike<number>,
    at: number,
    bounds: readonly number[],
  ): void {
    const starts = this.bucketStarts(name, bounds);
    const end = labels === "" ? "} " : `,${labels}} `;
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += slots[at + i]!;
      this.lines.push(starts[i]! + end + formatValue(cumulative));
    }
    this.sample(`${name}_sum`, labels, slots[at + bounds.length + 1]!);
    this.sample(`${name}_count`, labels, cumulative);
  }

  private bucketStarts(name: string, bounds: readonly number[]): string[] {
    const cached = this.buckets;
    if (cached !== null && cached.name === name && cached.bounds === bounds) return cached.starts;
    const les = [...bounds.map(formatValue), "+Inf"];
    const starts = les.map((le) => `${name}_bucket{le="${le}"`);
    this.buckets = { name, bounds, starts };
    return starts;
  }

  /** Encodes the lines written since the last flush. */
  flush(): void {
    if (this.lines.length === 0) return;
    this.chunks.push(encoder.encode(`${this.lines.join("\n")}\n`));
    this.flushed += this.lines.length;
    this.lines = [];
  }

  /** The whole exposition, as UTF-8 chunks. */
  bytes(): Uint8Array<ArrayBuffer>[] {
    this.flush();
    return this.format === "openmetrics"
      ? [...this.chunks, encoder.encode("# EOF\n")]
      : this.chunks;
  }

  text(): string {
    return Buffer.concat(this.bytes()).toString("utf8");
  }
}

/** `name="value",...` with each value escaped. */
export function labels(...pairs: readonly [string, string][]): string {
  return pairs.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",");
}

/** Joins rendered label lists, leaving out the empty ones. */
export function joinLabels(...lists: readonly string[]): string {
  return lists.filter((list) => list !== "").join(",");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}

/**
 * OpenMetrics when the client asks for it at least as much as for the text
 * format (as Prometheus does, with q-values), else the text format.
 */
export function negotiate(accept: string | undefined): Format {
  if (accept === undefined) return "prometheus";
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0)) continue;
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, q);
    else if (type === "text/plain" || type === "text/*" || type === "*/*") text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text ? "openmetrics" : "prometheus";
}
