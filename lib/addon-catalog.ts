/**
 * The dev-tool add-ons the chart can switch on inside the release, as data: names, Services, ports.
 * Shared by every command that meets them (port-forward forwards them, deploy lists their URLs); the
 * addon command adds what it alone needs (its login printers and extra values) in lib/addons/.
 */
import { APP } from './components.ts';

/** A port of an add-on's Service that is forwarded to localhost. */
export interface AddonPort {
  /** Port name (for --port and the status table). */
  name: string;
  /** Service port. */
  remote: number;
  /** Default local port. */
  local: number;
}

/** One dev-tool add-on: a chart section switched on inside the release. */
export interface AddonInfo {
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
  /** PersistentVolumeClaims the chart keeps when it goes off; `--remove` asks whether to delete them. */
  claims?: string[];
}

/** Every add-on. A new one takes a chart section (`<key>.enabled`, a Service, a Deployment) and an entry here. */
export const ADDON_CATALOG: readonly AddonInfo[] = [
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
  },
  {
    name: 'mailpit',
    title: 'Mailpit',
    valuesKey: 'mailpit',
    service: 'mailpit',
    deployment: 'mailpit',
    ports: [{ name: 'web', remote: 8025, local: 8025 }],
    alsoRolls: [APP.sso.name],
    removeNote: 'caught mail is lost and the SSO goes back to the SMTP settings of the env file',
    losesData: true,
    offNote:
      "the SSO sends its mail with the env file's SMTP settings again (none: e-mail verification is off)",
  },
];

/** The add-on of that name, or undefined. */
export function findAddonInfo(name: string | undefined): AddonInfo | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}
