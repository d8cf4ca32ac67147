import type { ClusterSession } from '../context.ts';
import { pgadminLogin, mailpitLogin, mailpitValues } from './login.ts';

/** A port of an add-on's Service that is forwarded to localhost. */
export interface AddonPort {
  /** Port name (for --port and the status table). */
  name: string;
  /** Service port. */
  remote: number;
  /** Default local port. */
  local: number;
}

/** What the add-on prints after it is on: lines for humans, fields for --json. */
export interface LoginInfo {
  lines: string[];
  json: Record<string, unknown>;
  /** Lines with secret values (printed only as asked, bypassing redaction on purpose). */
  secretLines?: string[];
}

/** What a login printer may read. */
export interface LoginInput {
  session: ClusterSession;
  /** The release's computed values (`helm get values --all`). */
  values: Record<string, unknown>;
  /** Local URL of each forwarded port, by port name. */
  urls: Record<string, string>;
  showPasswords: boolean;
}

/** One dev-tool add-on: a chart section switched on inside the release. */
export interface Addon {
  name: string;
  /** Human name, e.g. pgAdmin. */
  title: string;
  /** Top-level chart values key holding `enabled`. */
  valuesKey: string;
  /** Service and Deployment names (chart contract). */
  service: string;
  deployment: string;
  ports: AddonPort[];
  /** Other Deployments the switch rolls (their config depends on it), awaited after the upgrade. */
  alsoRolls: string[];
  /** What `--remove` loses, for the confirmation question. */
  removeNote: string;
  /** `--remove` loses data (on a remote context it then needs the context's name typed back). */
  losesData: boolean;
  /** What is true again once it is off (printed after `--remove`). */
  offNote?: string;
  /** Extra values for the upgrade that turns the add-on on (true) or off (false). */
  extraValues?: (on: boolean, session: ClusterSession) => Record<string, unknown>;
  login: (input: LoginInput) => Promise<LoginInfo>;
}

/** Every add-on. A new one takes a chart section (`<key>.enabled`, a Service, a Deployment) and an entry here. */
export const ADDONS: readonly Addon[] = [
  {
    name: 'pgadmin',
    title: 'pgAdmin',
    valuesKey: 'pgadmin',
    service: 'pgadmin',
    deployment: 'pgadmin',
    ports: [{ name: 'web', remote: 80, local: 5050 }],
    alsoRolls: [],
    removeNote: 'its saved queries and settings are lost; the databases are not touched',
    losesData: true,
    login: pgadminLogin,
  },
  {
    name: 'mailpit',
    title: 'Mailpit',
    valuesKey: 'mailpit',
    service: 'mailpit',
    deployment: 'mailpit',
    ports: [{ name: 'web', remote: 8025, local: 8025 }],
    alsoRolls: ['sso-platform'],
    removeNote: 'caught mail is lost and the SSO goes back to the SMTP settings of the env file',
    losesData: true,
    offNote:
      "the SSO sends its mail with the env file's SMTP settings again (none: e-mail verification is off)",
    extraValues: mailpitValues,
    login: mailpitLogin,
  },
];

/** Valid add-on names, for messages. */
export const ADDON_NAMES = ADDONS.map((a) => a.name);

/** The add-on of that name, or undefined. */
export function findAddon(name: string | undefined): Addon | undefined {
  return ADDONS.find((a) => a.name === name);
}
