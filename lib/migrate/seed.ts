/**
 * What the SSO's seed said of the default organisation. The seed (scripts/seed-setup.ts,
 * seedDefaultOrganization) prints "Seeding default organization..." and then, for that organisation,
 * "<name> (creating...)" when it inserts it or "<name> (updating...)" when it was there. The running
 * SSO looks the organisation up once, at start (app contract: sso, defaultOrganization), so only a run
 * that created it needs a restart of the SSO.
 */
export type DefaultOrganization = 'created' | 'existed';

const STEP = /Seeding default organi[sz]ation/i;
const VERDICT = /\((creating|updating)\.\.\.\)\s*$/;

/** Reads the seed's lines as they come; `outcome` is undefined until the seed said it. */
export class SeedWatch {
  #inStep = false;
  #outcome: DefaultOrganization | undefined;

  get outcome(): DefaultOrganization | undefined {
    return this.#outcome;
  }

  line(text: string): void {
    if (this.#outcome !== undefined) return;
    if (STEP.test(text)) {
      this.#inStep = true;
      return;
    }
    const m = this.#inStep ? VERDICT.exec(text) : null;
    if (m) this.#outcome = m[1] === 'creating' ? 'created' : 'existed';
  }
}

/** The seed's verdict in a whole log. */
export function seedOutcome(lines: Iterable<string>): DefaultOrganization | undefined {
  const w = new SeedWatch();
  for (const l of lines) w.line(l);
  return w.outcome;
}
