/**
 * The add-ons as a release holds them, and what follows from that for the commands that read it: which
 * add-ons a redeploy carries over (from the definition file, else the release's own stored copy), and
 * the one SMTP rule while Mailpit is on. Deploy, env-flow, validate and the addon command all read these,
 * so they agree.
 */
import { MAILPIT_SMTP } from './addon-catalog.ts';
import { shownPath } from './addon-defs.ts';
import type { Settings } from './env.ts';
import { npmRun } from './suggest.ts';
import { type Values, atPath, deepMerge, getPath, isObject } from './values.ts';

/** The chart add-ons' switches an earlier deploy (--pgadmin) or `npm run addon` turned on: a redeploy keeps them. */
export const ADDON_SWITCHES = ['pgadmin.enabled', 'mailpit.enabled'];

/** Where the definition add-ons' values live (`addons.<name>`: the whole definition, and `enabled`). */
const DATA_ADDONS = 'addons';

/** The definition add-ons that are on in these release values, with the entry the release stored. */
export function addonsOnInRelease(values: Values | undefined): [string, Values][] {
  const data = getPath(values ?? {}, DATA_ADDONS);
  return Object.entries(isObject(data) ? data : {}).filter(
    (e): e is [string, Values] => isObject(e[1]) && e[1].enabled === true,
  );
}

/**
 * The add-on values of the installed release a plain redeploy keeps: the chart add-ons' switches, and
 * every definition add-on that is on, refreshed to its file's content when the file is found (else kept
 * as the release stored it).
 */
export function carriedAddonValues(previous: Values, definitions: Record<string, Values> = {}): Values {
  let out: Values = {};
  for (const p of ADDON_SWITCHES) {
    const v = getPath(previous, p);
    if (v !== undefined && v !== null) out = deepMerge(out, atPath(p, v));
  }
  for (const [name, entry] of addonsOnInRelease(previous)) {
    out = deepMerge(out, { [DATA_ADDONS]: { [name]: definitions[name] ?? entry } });
  }
  return out;
}

/** Where the SSO sends its mail while Mailpit is on. */
export const MAILPIT_TARGET = `${MAILPIT_SMTP.host}:${MAILPIT_SMTP.port}`;

/**
 * The one SMTP rule: while the Mailpit add-on is on, the SSO sends its mail to Mailpit and the env file's
 * SMTP settings are set aside (kept, and applied again when Mailpit goes off). This is the line each
 * command tells the loser with, or undefined when the env file sets no SMTP_HOST.
 */
export function smtpSetAside(settings: Settings, envFile: string): string | undefined {
  const smtp = settings.sso.smtp;
  if (!smtp) return undefined;
  return `SMTP_HOST in ${shownPath(envFile)} (${smtp.host}:${smtp.port}) is ignored while the Mailpit add-on is on: the SSO sends its mail to Mailpit (${MAILPIT_TARGET}); it applies again after ${npmRun('addon', 'mailpit', '--remove')}`;
}

/** Whether Mailpit is on in these values (the release's, or what a deploy sends). */
export function mailpitOn(values: Values | undefined): boolean {
  return getPath(values ?? {}, 'mailpit.enabled') === true;
}

/** What the SSO gets once Mailpit is off (printed after `addon mailpit --remove`): the env file decides. */
export function mailpitOffNote(settings: Settings, envFile: string): string {
  const smtp = settings.sso.smtp;
  if (smtp)
    return `the SSO sends its mail to ${smtp.host}:${smtp.port} again (SMTP_HOST in ${shownPath(envFile)})`;
  return `no SMTP_HOST in ${shownPath(envFile)}: the SSO sends no mail, and e-mail verification is off so sign-in works`;
}
