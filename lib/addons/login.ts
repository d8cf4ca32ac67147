import { type AddonDefinition, type LoginLine, renderLogin } from '../addon-defs.ts';
import { APP, DATABASES, type DbInfo } from '../components.ts';
import type { ClusterSession } from '../context.ts';
import { settingsToValues } from '../settings-values.ts';
import { getPath } from '../values.ts';
import { smtpSetAside } from '../addon-release.ts';

/**
 * What the add-on prints after it is on: lines for humans, in order (`secret` ones hold a value the user
 * asked for with --show-passwords, printed bypassing redaction on purpose), and fields for --json.
 */
export interface LoginInfo {
  lines: LoginLine[];
  json: Record<string, unknown>;
}

const plain = (text: string): LoginLine => ({ text, secret: false });

/** What a login printer may read. */
export interface LoginInput {
  session: ClusterSession;
  /** The release's computed values (`helm get values --all`). */
  values: Record<string, unknown>;
  /** Local URL of each forwarded port, by port name. */
  urls: Record<string, string>;
  showPasswords: boolean;
}

/** The pgAdmin Secret and its admin login key (chart contract). */
export const PGADMIN_SECRET = { name: 'pgadmin', key: 'password' } as const;

interface ServerInfo {
  name: string;
  host: string;
  database: string;
  user: string;
  secret: string;
  secretKey: string;
}

/** The two database servers pgAdmin is pre-configured with, as the release values describe them. */
export function pgadminServers(values: Record<string, unknown>): ServerInfo[] {
  const server = (db: DbInfo, title: string): ServerInfo => {
    const key = db.db === 'sso' ? 'sso' : 'api';
    const str = (p: string): string | undefined => {
      const v = getPath(values, `${key}.database.${p}`);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    return {
      name: title,
      host: str('host') ?? db.statefulSet,
      database: str('name') ?? db.database,
      user: str('user') ?? db.user,
      secret: str('existingSecret') ?? db.secret,
      secretKey: (str('existingSecret') && str('existingSecretKey')) || db.secretKey,
    };
  };
  return [server(DATABASES.sso, 'SSO database'), server(DATABASES.api, 'API database')];
}

/**
 * pgAdmin's URL and the login its sign-in page asks for (server mode: `pgadmin.email` and the generated
 * admin password), the point of the add-on; database passwords only when asked.
 */
export async function pgadminLogin(input: LoginInput): Promise<LoginInfo> {
  const { kubectl } = input.session;
  const url = input.urls.http;
  const email = getPath(input.values, 'pgadmin.email');
  const password = await kubectl.secretValue(PGADMIN_SECRET.name, PGADMIN_SECRET.key);
  const servers = pgadminServers(input.values);
  const lines = [
    `pgAdmin:  ${url ?? '(not forwarded)'}`,
    // The login is the point of the add-on: shown as it is (the database passwords only when asked).
    `  login:    ${typeof email === 'string' ? email : '(pgadmin.email)'} / ${password?.reveal() ?? `(Secret ${PGADMIN_SECRET.name} not found)`}`,
    `            (the sign-in page's e-mail and password; Secret ${PGADMIN_SECRET.name}, key ${PGADMIN_SECRET.key})`,
    `  servers:  ${servers.map((s) => `${s.name} (${s.database} as ${s.user} on ${s.host})`).join(', ')}`,
    "            pre-configured from the databases' Secrets: no database password prompt",
  ];
  const dbPasswords: Record<string, string | undefined> = {};
  const secretLines: LoginLine[] = [];
  if (input.showPasswords) {
    for (const s of servers) {
      const v = (await kubectl.secretValue(s.secret, s.secretKey))?.reveal();
      dbPasswords[s.user] = v;
      secretLines.push({
        text: `  ${s.user} password: ${v ?? `(Secret ${s.secret} not found)`}`,
        secret: true,
      });
    }
  } else {
    lines.push('  database passwords: add --show-passwords to print them');
  }
  return {
    lines: [...lines.map(plain), ...secretLines],
    json: {
      url: url ?? null,
      email: typeof email === 'string' ? email : null,
      password: password?.reveal() ?? null,
      servers: servers.map((s) => ({
        name: s.name,
        host: s.host,
        database: s.database,
        user: s.user,
        ...(input.showPasswords && { password: dbPasswords[s.user] ?? null }),
      })),
    },
  };
}

/** SMTP settings of the SSO's ConfigMap (non-secret keys), to show where mail goes. */
async function ssoSmtp(session: ClusterSession): Promise<{ host?: string; port?: string }> {
  const cm = await session.kubectl.getOptional<{ data?: Record<string, string> }>('configmap', APP.sso.name);
  return { host: cm?.data?.SMTP_HOST, port: cm?.data?.SMTP_PORT };
}

/** Mailpit's inbox URL and where the SSO's mail now goes. */
export async function mailpitLogin(input: LoginInput): Promise<LoginInfo> {
  const url = input.urls.http;
  const smtp = await ssoSmtp(input.session);
  const target = smtp.host ? `${smtp.host}:${smtp.port ?? ''}` : 'no SMTP host';
  const lines = [
    `Mailpit inbox: ${url ?? '(not forwarded)'} (no login)`,
    `  the SSO sends its mail to ${target}: email verification works without real SMTP credentials`,
  ];
  const aside = smtpSetAside(input.session.settings, input.session.envFile.path);
  if (aside) lines.push(`  ${aside}`);
  return { lines: lines.map(plain), json: { url: url ?? null, ssoSmtp: smtp } };
}

/**
 * A definition's login note, its placeholders filled in (lib/addon-defs.ts renderLogin): secrets only
 * with --show-passwords. JSON: the first forwarded URL, every one by port name, and the note's lines.
 */
export async function definitionLogin(def: AddonDefinition, input: LoginInput): Promise<LoginInfo> {
  const { kubectl, target } = input.session;
  const lines = await renderLogin(def, {
    release: target.release,
    namespace: target.namespace,
    values: input.values,
    urls: input.urls,
    showPasswords: input.showPasswords,
    secret: async (name, key) => (await kubectl.secretValue(name, key))?.reveal(),
  });
  const forwarded = def.ports.filter((p) => p.forward !== undefined).map((p) => p.name);
  return {
    lines,
    json: {
      url: forwarded.map((p) => input.urls[p]).find((u) => u !== undefined) ?? null,
      urls: Object.fromEntries(forwarded.map((p) => [p, input.urls[p] ?? null])),
      note: lines.map((l) => l.text),
    },
  };
}

/**
 * Extra upgrade values for Mailpit, on or off: the env file's SMTP settings when it has any, so the
 * release holds what a deploy sends. While Mailpit is on the chart gives the SSO Mailpit's SMTP and sets
 * them aside (the one SMTP rule, lib/addon-release.ts); once it is off they apply again.
 */
export function mailpitValues(_on: boolean, session: ClusterSession): Record<string, unknown> {
  if (!session.settings.sso.smtp) return {};
  // Only the SMTP subtree is used: the database and auth secrets are not part of this upgrade.
  const all = settingsToValues(session.settings, {
    ssoDbPassword: undefined,
    apiDbPassword: undefined,
    authSecret: undefined,
    sources: {
      POSTGRES_SSO_PASSWORD: 'default',
      POSTGRES_API_PASSWORD: 'default',
      BETTER_AUTH_SECRET: 'default',
    },
    written: [],
    existing: [],
  });
  return { sso: { smtp: getPath(all, 'sso.smtp') } };
}
