/**
 * The log lines of one look at cert_dir: a line per name that serves anew or
 * stops serving, or, past a few, one line for them all (and a line each at
 * debug level): a folder of ten thousand certificates starts with a line, not
 * ten thousand.
 */
import { log } from "../log.ts";
import type { Certificate } from "./certificate.ts";

/** More changes than this in one look are told in one line. */
export const LINES_EACH = 10;

export class ChangeLines {
  private readonly servedLines = new Lines();
  private readonly goneLines = new Lines();
  private soonest: Certificate | null = null;

  constructor(private readonly folder: string) {}

  served(label: string, certificate: Certificate): void {
    const expiry = new Date(certificate.notAfter).toISOString();
    this.servedLines.add(`cert_dir: ${label} serves ${certificate.name} (expires ${expiry})`);
    if (this.soonest === null || certificate.notAfter < this.soonest.notAfter) {
      this.soonest = certificate;
    }
  }

  gone(name: string): void {
    this.goneLines.add(
      `cert_dir: the files of ${name} are gone; it no longer serves from cert_dir`,
    );
  }

  write(): void {
    this.servedLines.write((count) => {
      const { name, notAfter } = this.soonest!;
      const expiry = new Date(notAfter).toISOString();
      return `cert_dir: ${count} certificates of ${this.folder} serve (the soonest to expire: ${name}, ${expiry})`;
    });
    this.goneLines.write(
      (count) =>
        `cert_dir: the files of ${count} names are gone; they no longer serve from cert_dir`,
    );
  }
}

/** Lines kept until there are too many: then each goes at debug level, and a count is kept. */
class Lines {
  private readonly kept: string[] = [];
  private count = 0;

  add(line: string): void {
    this.count++;
    if (this.count <= LINES_EACH) {
      this.kept.push(line);
      return;
    }
    for (const one of this.kept.splice(0)) log.debug(one);
    log.debug(line);
  }

  write(summary: (count: number) => string): void {
    if (this.count <= LINES_EACH) for (const line of this.kept) log.info(line);
    else log.info(summary(this.count));
  }
}
