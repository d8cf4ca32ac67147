import { addonCarryNotes, mailpitOn, smtpSetAside } from '../addon-release.ts';
import { printChecks } from '../checks.ts';
import type { Settings } from '../env.ts';
import { type ExistingSecretRef, existingSecretRefs } from '../existing-secrets.ts';
import type { SecretKey } from '../secret-resolution.ts';
import type { Logger } from '../log.ts';
import { defaultSenderWarning } from '../mail-sender.ts';
import { type Values, chartValues } from '../values.ts';
import type { AddonPlan } from './plan.ts';

/**
 * What deploy (and --diff) and --dry-run say of the values they send, before sending them, in one order:
 * the one SMTP rule (Mailpit on wins over the env file's SMTP_HOST), each add-on the release keeps without
 * its file, and validate's smtp.sender warning judged on the merged values (chart defaults, these values,
 * then the -f files).
 */
export function printValueWarnings(
  log: Logger,
  w: {
    values: Values;
    chart: string;
    /** the -f files' values, merged */
    userValues: Values;
    settings: Settings;
    envFile: string;
    /** the installed release's user values (undefined: none, or not read) */
    previous: Values | undefined;
    addons: AddonPlan | undefined;
  },
): void {
  const aside = mailpitOn(w.values) ? smtpSetAside(w.settings, w.envFile) : undefined;
  if (aside) log.warn(aside);
  for (const note of addonCarryNotes(w.previous, w.addons?.definitions ?? {}, w.addons?.dir ?? 'addons'))
    log.warn(note);
  const sender = defaultSenderWarning(chartValues(w.chart, w.values, w.userValues));
  if (sender) printChecks([sender], log);
  for (const note of unusedSecretSettings(w.settings, existingSecretRefs(w.userValues))) log.warn(note);
}

/** A secret set in the env file (or shell) while the -f values name the user's own Secret for it. */
function unusedSecretSettings(settings: Settings, refs: readonly ExistingSecretRef[]): string[] {
  const own: Record<SecretKey, unknown> = {
    POSTGRES_SSO_PASSWORD: settings.sso.dbPassword,
    POSTGRES_API_PASSWORD: settings.api.dbPassword,
    BETTER_AUTH_SECRET: settings.sso.authSecret,
  };
  return refs
    .filter((r) => own[r.envKey] !== undefined)
    .map(
      (r) =>
        `${r.envKey} is set (${settings.sources[r.envKey] === 'process-env' ? 'in the shell' : 'in the env file'}) but not used: ${r.valuePath} names Secret ${r.secret}, which the release reads instead`,
    );
}
