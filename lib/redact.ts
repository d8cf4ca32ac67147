import { Secret, SECRET_MASK } from './secrets.ts';

/**
 * Every secret value the process has seen. Anything the suite prints (logs,
 * errors, JSON, echoed commands, captured tool output) passes through `redact`.
 */
const known = new Set<string>();

/** Remembers secret values so that all later output masks them. */
export function registerSecrets(...values: (Secret | string | undefined)[]): void {
  for (const v of values) {
    if (v === undefined) continue;
    const raw = v instanceof Secret ? v.reveal() : v;
    // Very short values would mask ordinary words; secrets here are 16+ chars anyway.
    if (raw.length >= 6) known.add(raw);
  }
}

/** Replaces every registered secret value in a text by the mask. */
export function redact(text: string): string {
  let out = text;
  for (const v of known) if (out.includes(v)) out = out.split(v).join(SECRET_MASK);
  return out;
}

/** Forgets registered secrets (tests only). */
export function clearSecretsForTest(): void {
  known.clear();
}
