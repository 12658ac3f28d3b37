/**
 * A strict reader of the Prometheus text format (0.0.4) and OpenMetrics 1.0,
 * for tests: it throws on anything a scraper could trip on (a sample before
 * its TYPE, a sample of another family, a family declared twice, a repeated
 * series, bad label syntax, a histogram whose buckets are not cumulative or
 * whose `+Inf` bucket is not its count, a missing `# EOF`), and gives the
 * families back with their samples.
 */

export type Format = "prometheus" | "openmetrics";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped", "unknown"]);

export function parseMetrics(text: string, format: Format): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (format === "openmetrics") {
    if (lines.pop() !== "# EOF") throw new Error("OpenMetrics must end with # EOF");
    if (lines.includes("# EOF")) throw new Error("# EOF before the end");
  }
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | null = null;
  let help: { name: string; text: string } | null = null;
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line === "") {
      if (format === "openmetrics") throw new Error(`blank line in OpenMetrics at ${where}`);
      return;
    }
    if (line.startsWith("# HELP ")) {
      const [name = "", ...words] = line.slice(7).split(" ");
      if (!NAME.test(name)) throw new Error(`bad family name at ${where}`);
      help = { name, text: words.join(" ") };
      return;
    }
    if (line.startsWith("# TYPE ")) {
      const [name = "", type = "", extra] = line.slice(7).split(" ");
      if (!NAME.test(name) || !TYPES.has(type) || extra !== undefined) {
        throw new Error(`bad TYPE at ${where}`);
      }
      if (families.has(name)) throw new Error(`family ${name} declared twice, at ${where}`);
      if (help === null || help.name !== name) throw new Error(`no HELP just before ${where}`);
      if (format === "openmetrics" && type === "counter" && name.endsWith("_total")) {
        throw new Error(`an OpenMetrics counter family is named without _total, at ${where}`);
      }
      current = { name, type, help: unescapeHelp(help.text), samples: [] };
      families.set(name, current);
      help = null;
      return;
    }
    if (line.startsWith("#")) throw new Error(`unexpected comment at ${where}`);
    if (current === null) throw new Error(`sample before any TYPE at ${where}`);
    const sample = parseSample(line, where);
    if (!belongs(current as Family, sample.name, format)) {
      throw new Error(`${sample.name} is not of family ${(current as Family).name}, at ${where}`);
    }
    const id = `${sample.name}${JSON.stringify(sample.labels)}`;
    if (series.has(id)) throw new Error(`series repeated at ${where}`);
    series.add(id);
    (current as Family).samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

function belongs(family: Family, name: string, format: Format): boolean {
  switch (family.type) {
    case "counter":
      return format === "openmetrics" ? name === `${family.name}_total` : name === family.name;
    case "histogram":
      return ["_bucket", "_sum", "_count"].some((suffix) => name === family.name + suffix);
    default:
      return name === family.name;
  }
}

function parseSample(line: string, where: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
  if (!match) throw new Error(`bad sample at ${where}`);
  return {
    name: match[1]!,
    labels: parseLabels(match[2] ?? "", where),
    value: parseValue(match[3]!, where),
  };
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== "") {
    const match = /^([^=]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
    if (!match || !LABEL_NAME.test(match[1]!)) throw new Error(`bad labels at ${where}`);
    const name = match[1]!;
    if (name in labels) throw new Error(`label ${name} repeated at ${where}`);
    labels[name] = match[2]!.replace(/\\(["\\n])/g, (_all, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(match[0].length);
    if (match[3] === "" && rest !== "") throw new Error(`bad labels at ${where}`);
    if (match[3] === "," && rest === "") throw new Error(`trailing comma at ${where}`);
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new Error(`bad value at ${where}`);
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n])/g, (_all, c: string) => (c === "n" ? "\n" : "\\"));
}

/** Each label set's buckets rise with `le`, never fall, end at `+Inf`, which equals `_count`. */
function checkHistogram(family: Family): void {
  const groups = new Map<
    string,
    { les: number[]; counts: number[]; sum?: number; count?: number }
  >();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    const group = groups.get(key) ?? { les: [], counts: [] };
    groups.set(key, group);
    if (sample.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.les.push(parseValue(le, family.name));
      group.counts.push(sample.value);
    } else if (sample.name.endsWith("_sum")) group.sum = sample.value;
    else group.count = sample.value;
  }
  for (const [key, group] of groups) {
    const what = `${family.name}${key}`;
    if (group.les.at(-1) !== Number.POSITIVE_INFINITY) throw new Error(`${what}: no +Inf bucket`);
    for (let i = 1; i < group.les.length; i++) {
      if (!(group.les[i]! > group.les[i - 1]!)) throw new Error(`${what}: le out of order`);
      if (group.counts[i]! < group.counts[i - 1]!)
        throw new Error(`${what}: buckets not cumulative`);
    }
    if (group.sum === undefined) throw new Error(`${what}: no _sum`);
    if (group.count !== group.counts.at(-1))
      throw new Error(`${what}: _count is not the +Inf bucket`);
  }
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samplesOf(families, name).filter((sample) =>
    Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
  );
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

/** Every sample named `name`, whatever its family. */
export function samplesOf(families: Map<string, Family>, name: string): Sample[] {
  return [...families.values()].flatMap((family) =>
    family.samples.filter((sample) => sample.name === name),
  );
}
