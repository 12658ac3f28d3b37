/**
 * The names rules ask ACME certificates for: a rule's key without its
 * `http://` or `https://` prefix, while its options say `"tls": "auto"`.
 * Several keys may ask for one name (`a.example.com` and
 * `https://a.example.com`); the name is wanted while any of them asks.
 */
import { forEachMatching } from "../../rules/distinct-rules.ts";
import type { Change } from "../../rules/registry.ts";
import type { Rule, RuleEntries } from "../../rules/schema.ts";

export interface WantedChange {
  /** Names no rule asked for before. */
  readonly added: string[];
  /** Names no rule asks for any more. */
  readonly removed: string[];
}

export function wantsCertificate(rule: Rule): boolean {
  return rule.options.tls === "auto";
}

/** The certificate name of a rule's key. */
export function certificateNameOf(key: string): string {
  return key.replace(/^https?:\/\//, "");
}

export class WantedNames {
  /** Only the keys that ask, so a change costs nothing for the many rules that do not. */
  private readonly keysByName = new Map<string, Set<string>>();

  constructor(rules: RuleEntries) {
    this.fill(rules);
  }

  names(): Set<string> {
    return new Set(this.keysByName.keys());
  }

  /** Follows a batch of rule changes; says which names it added and removed. */
  follow(changes: readonly Change[]): WantedChange {
    // Each name touched, and whether it was wanted before the batch.
    const touched = new Map<string, boolean>();
    const touch = (name: string) => {
      if (!touched.has(name)) touched.set(name, this.keysByName.has(name));
    };
    for (const change of changes) {
      switch (change.kind) {
        case "set":
        case "delete": {
          const name = certificateNameOf(change.key);
          touch(name);
          if (change.kind === "set" && wantsCertificate(change.rule)) this.ask(change.key, name);
          else this.forget(change.key, name);
          break;
        }
        case "replace":
          for (const name of this.keysByName.keys()) touch(name);
          this.keysByName.clear();
          this.fill(change.rules, touch);
          break;
        default:
          break;
      }
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const [name, before] of touched) {
      const now = this.keysByName.has(name);
      if (now && !before) added.push(name);
      if (before && !now) removed.push(name);
    }
    return { added, removed };
  }

  private ask(key: string, name: string): void {
    const keys = this.keysByName.get(name);
    if (keys === undefined) this.keysByName.set(name, new Set([key]));
    else keys.add(key);
  }

  private forget(key: string, name: string): void {
    const keys = this.keysByName.get(name);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.keysByName.delete(name);
  }

  /**
   * Adds the keys of `rules` that ask; `before` sees each name before it is added.
   * A whole set's keys are gone through only if one of its rules asks.
   */
  private fill(rules: RuleEntries, before?: (name: string) => void): void {
    forEachMatching(rules, wantsCertificate, (key) => {
      const name = certificateNameOf(key);
      before?.(name);
      this.ask(key, name);
    });
  }
}
