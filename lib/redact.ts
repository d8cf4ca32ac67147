import { AsyncLocalStorage } from 'node:async_hooks';
import { Secret, SECRET_MASK } from './secrets.ts';

/**
 * The secret values one command run has seen, and the masking of them. Each run has its own (made by
 * runCommand, in `ctx.redactor`): two runs in one process (the tests run many) never share secrets.
 * Anything the suite prints (logs, errors, JSON, echoed commands, captured tool output) passes through it.
 */
export class Redactor {
  readonly #known = new Set<string>();

  /** Remembers secret values so that all later output of this run masks them. */
  add(...values: (Secret | string | undefined)[]): void {
    for (const v of values) {
      if (v === undefined) continue;
      const raw = v instanceof Secret ? v.reveal() : v;
      // Very short values would mask ordinary words; secrets here are 16+ chars anyway.
      if (raw.length < 6) continue;
      this.#known.add(raw);
      // As a URL carries it (a DATABASE_URL's password, percent-encoded): masked in that form too.
      const encoded = encodeURIComponent(raw);
      if (encoded !== raw) this.#known.add(encoded);
    }
  }

  /** Replaces every remembered secret value in a text by the mask. */
  redact(text: string): string {
    let out = text;
    for (const v of this.#known) if (out.includes(v)) out = out.split(v).join(SECRET_MASK);
    return out;
  }
}

const current = new AsyncLocalStorage<Redactor>();

/** Runs `fn` (and everything it starts) as one run whose secrets `redactor` remembers and masks. */
export function withRedactor<T>(redactor: Redactor, fn: () => T): T {
  return current.run(redactor, fn);
}

/** The redactor of the run this code belongs to, if it runs inside one. */
export function currentRedactor(): Redactor | undefined {
  return current.getStore();
}

/** Remembers secret values in the current run's redactor (outside a run there is nothing to print to). */
export function registerSecrets(...values: (Secret | string | undefined)[]): void {
  current.getStore()?.add(...values);
}

/** Masks the current run's secrets in a text (unchanged outside a run). */
export function redact(text: string): string {
  return current.getStore()?.redact(text) ?? text;
}
