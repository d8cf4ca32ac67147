import { type Check, type CheckOutcome, fail, pass, skip, warn, worst } from '../checks.ts';
import { APP, APPS, DATABASES } from '../components.ts';
import { ADDON_CATALOG } from '../addon-catalog.ts';
import { DEFAULTS, parseOrigins } from '../env.ts';
import { containersOf, findWorkload, podSpecOf, resolveEnv } from '../workload-env.ts';
import type { PreflightContext } from './context.ts';
import { errorsFor, rawText, whereSet } from '../settings-load.ts';
import { ruleProblem } from '../app-contract.ts';
import { deepMerge, getPath } from '../values.ts';
import { npmRun } from '../suggest.ts';
import { mailpitOn, smtpSetAside } from '../addon-release.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const SERVICE_NAMES = new Set([
  ...APPS.map((a) => a.name),
  ...Object.values(DATABASES).map((d) => d.statefulSet),
  ...ADDON_CATALOG.map((a) => a.service),
]);
const portOf = (u: URL) => (u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port);
const localOrigin = (component: 'web' | 'sso') =>
  `http://localhost:${APPS.find((a) => a.component === component)?.localPort ?? 0}`;

/** A name only the cluster's DNS resolves: `*.svc`, `*.cluster.local`, or a bare Service name. */
export function isInClusterHost(host: string, portForward: boolean): boolean {
  if (LOCAL_HOSTS.has(host)) return false;
  if (/\.svc(\.cluster\.local)?$|\.cluster\.local$/.test(host)) return true;
  if (SERVICE_NAMES.has(host) || !host.includes('.')) return !/^\d+$/.test(host);
  // mDNS-style *.local names are ingress hosts at best; with port-forward the browser uses localhost.
  return portForward && host.endsWith('.local');
}

/**
 * The web dashboard's origin as the browser sees it: localhost in port-forward mode; with ingress, the
 * web host of the values (-f files included), https when a TLS entry names it (as the chart decides).
 */
export function webOrigin(ctx: PreflightContext): string | undefined {
  if (ctx.env.settings.access === 'port-forward') return localOrigin('web');
  const values = deepMerge(ctx.values, ctx.userValues ?? {});
  const host = getPath(values, 'ingress.hosts.web');
  if (typeof host !== 'string' || host === '') return undefined;
  const tls = getPath(values, 'ingress.tls');
  const secure =
    Array.isArray(tls) &&
    tls.some(
      (t) =>
        Array.isArray((t as { hosts?: unknown }).hosts) && (t as { hosts: unknown[] }).hosts.includes(host),
    );
  return `${secure ? 'https' : 'http'}://${host}`;
}

const authUrl: Check<PreflightContext> = {
  id: 'auth.url',
  title: 'BETTER_AUTH_URL',
  run: (ctx) => {
    const { settings } = ctx.env;
    const where = whereSet(settings, 'BETTER_AUTH_URL', ctx.env.file.path);
    const bad = errorsFor(ctx.env.problems, ['BETTER_AUTH_URL'])[0];
    if (bad) {
      return fail(
        `BETTER_AUTH_URL (${where}) ${bad.message.replace(/^".*" is not/, 'is not')}: it must be an absolute URL`,
        bad.hint,
      );
    }
    const url = new URL(settings.sso.authUrl);
    const host = url.hostname;
    const local = LOCAL_HOSTS.has(host);
    const portForward = settings.access === 'port-forward';
    const out: CheckOutcome[] = [];
    if (isInClusterHost(host, portForward)) {
      out.push(
        fail(
          `${url.origin} is an in-cluster name: the browser opens this URL and cannot resolve ${host}${portForward ? ' (in port-forward mode it reaches the SSO at localhost)' : ''}`,
          portForward
            ? `set BETTER_AUTH_URL=${localOrigin('sso')} (the URL the browser opens)`
            : 'set BETTER_AUTH_URL to the https URL of the SSO ingress host',
        ),
      );
    } else if (portForward && !local) {
      out.push(
        warn(
          `in port-forward mode the browser reaches the SSO at ${localOrigin('sso')}, not ${url.origin}`,
          `set BETTER_AUTH_URL=${localOrigin('sso')}, or TASKFLOW_ACCESS=ingress if ${host} is an ingress host`,
        ),
      );
    }
    if (url.protocol === 'http:' && !local && !isInClusterHost(host, portForward)) {
      out.push(
        fail(
          `plain http on ${host}: the SSO's auth cookies are Secure and browsers drop them over http except on localhost`,
          `serve the SSO over TLS and set BETTER_AUTH_URL=https://${url.host}`,
        ),
      );
    }
    if (portForward && local && url.protocol === 'https:') {
      out.push(
        fail(
          `${url.origin}: npm run port-forward serves the SSO over plain http on localhost, so https there cannot connect`,
          `set BETTER_AUTH_URL=${localOrigin('sso')} (browsers accept its Secure cookies on localhost)`,
        ),
      );
    }
    if (url.protocol === 'http:' && local && settings.sso.nodeEnv === 'production') {
      out.push(
        warn(
          'NODE_ENV=production over plain http (works on localhost only)',
          'use NODE_ENV=development for local port-forward access',
        ),
      );
    }
    if (portForward && local && portOf(url) !== '3001') {
      out.push(
        warn(
          `port ${portOf(url)}: npm run port-forward serves the SSO on localhost:3001`,
          `set BETTER_AUTH_URL=${localOrigin('sso')}`,
        ),
      );
    }
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      out.push(
        warn(
          `${settings.sso.authUrl} has a path: BETTER_AUTH_URL is the SSO's base URL`,
          `set BETTER_AUTH_URL=${url.origin}`,
        ),
      );
    }
    return worst(
      out,
      pass(`${url.origin} (${settings.sources.BETTER_AUTH_URL === 'default' ? 'default' : where})`),
    );
  },
};

/** Problems of an origin list: empty, `*`, not an origin, missing a required origin. */
function originProblems(origins: string[], required: { origin: string; what: string }[]): CheckOutcome[] {
  const out: CheckOutcome[] = [];
  if (origins.length === 0)
    return [fail('the list is empty: every browser request would be refused ("Invalid origin")')];
  if (origins.includes('*'))
    out.push(fail('"*" is not allowed: credentialed requests need explicit origins'));
  for (const o of origins.filter((x) => x !== '*')) {
    if (o.includes('*')) {
      out.push(fail(`"${o}" has a wildcard: origins are compared exactly, list each one`));
      continue;
    }
    let u: URL | undefined;
    try {
      u = new URL(o);
    } catch {
      out.push(fail(`"${o}" is not a URL origin (scheme://host[:port])`));
      continue;
    }
    if (u.origin !== o)
      out.push(fail(`"${o}" is not an origin: browsers send "${u.origin}" (no path, no trailing slash)`));
  }
  const normalized = new Set(origins.flatMap((o) => (URL.canParse(o) ? [new URL(o).origin] : [])));
  for (const r of required) {
    if (!normalized.has(r.origin)) out.push(fail(`misses the ${r.what} origin ${r.origin}`));
  }
  return out;
}

const authOrigins: Check<PreflightContext> = {
  id: 'auth.origins',
  title: 'SSO allowed origins',
  run: (ctx) => {
    const { settings } = ctx.env;
    const raw = rawText(settings, 'ALLOWED_ORIGINS');
    const where = whereSet(settings, 'ALLOWED_ORIGINS', ctx.env.file.path);
    const hint = `list the web and SSO origins, comma-separated, e.g. ALLOWED_ORIGINS=${DEFAULTS.allowedOrigins}`;
    if (raw !== undefined && raw.trim() === '') {
      return fail(
        `ALLOWED_ORIGINS (${where}) is set but empty`,
        `${hint} (or remove the line for that default)`,
      );
    }
    const origins = raw === undefined ? settings.sso.allowedOrigins : parseOrigins(raw);
    const ssoOrigin = URL.canParse(settings.sso.authUrl) ? new URL(settings.sso.authUrl).origin : undefined;
    const web = webOrigin(ctx);
    const required = [
      ...(web ? [{ origin: web, what: 'web dashboard' }] : []),
      ...(ssoOrigin ? [{ origin: ssoOrigin, what: "SSO's own (BETTER_AUTH_URL)" }] : []),
    ];
    const out = originProblems(origins, required);
    if (!web && ssoOrigin && origins.every((o) => !URL.canParse(o) || new URL(o).origin === ssoOrigin)) {
      out.push(fail('lists no origin besides the SSO: the web dashboard origin is missing'));
    }
    const label = `ALLOWED_ORIGINS (${settings.sources.ALLOWED_ORIGINS === 'default' ? 'default' : where})`;
    const prefixed = out.map((o) => ({ ...o, detail: `${label} ${o.detail}` }));
    return worst(
      prefixed.map((o) => ({ ...o, hint })),
      pass(`${label}: ${origins.join(', ')}`),
    );
  },
};

const apiCors: Check<PreflightContext> = {
  id: 'api.cors',
  title: 'API allowed origins',
  run: async (ctx) => {
    const web = webOrigin(ctx);
    const render = await ctx.render();
    let origins = ctx.env.settings.api.allowedOrigins;
    let from = 'the settings (ALLOWED_ORIGINS)';
    const out: CheckOutcome[] = [];
    if (render?.ok) {
      const api = findWorkload(render.objects, { kind: 'Deployment', name: APP.api.name });
      if (!api) return skip('the API is not deployed (api.enabled is false)');
      const c = containersOf(podSpecOf(api), false).find((x) => x.name === APP.api.name);
      if (c) {
        const r = resolveEnv(c, 'ALLOWED_ORIGINS', render.objects);
        if (!r.found) out.push(fail('the API container gets no ALLOWED_ORIGINS (the name the API reads)'));
        else if (r.value !== undefined) {
          origins = parseOrigins(r.value);
          from = `the rendered API container (${r.via})`;
        }
        if (resolveEnv(c, 'CORS_ORIGINS', render.objects).found) {
          out.push(
            warn(
              'the API container also gets CORS_ORIGINS, which the API ignores (it reads ALLOWED_ORIGINS)',
            ),
          );
        }
      }
    }
    if (web && !origins.map((o) => (URL.canParse(o) ? new URL(o).origin : o)).includes(web)) {
      out.push(
        fail(
          `the API's allowed origins in ${from} miss the web origin ${web}: the dashboard's calls would fail CORS`,
        ),
      );
    }
    const hint = `add ${web ?? 'the web origin'} to ALLOWED_ORIGINS (the chart passes it to the API as api.allowedOrigins)`;
    return worst(
      out.map((o) => ({ ...o, hint: o.hint ?? hint })),
      pass(`the API allows ${origins.join(', ')} (${from})`),
    );
  },
};

const smtpConfig: Check<PreflightContext> = {
  id: 'smtp.config',
  title: 'SMTP',
  run: (ctx) => {
    const { settings, problems } = ctx.env;
    const out: CheckOutcome[] = errorsFor(problems, ['SMTP_PORT', 'SMTP_SECURE']).map((p) =>
      fail(`${p.key}: ${p.message}`, p.hint),
    );
    const smtp = settings.sso.smtp;
    // EMAIL_FROM alone is no half-configuration: Mailpit's SMTP uses it too (smtp.sender checks it).
    const setKeys = ['SMTP_PORT', 'SMTP_USER', 'SMTP_PASS', 'SMTP_SECURE'].filter(
      (k) => (rawText(settings, k) ?? '').trim() !== '',
    );
    if (!smtp) {
      if (setKeys.length > 0) {
        out.push(
          fail(
            `half-configured: ${setKeys.join(', ')} set but SMTP_HOST is not, so none of them reaches the SSO`,
            'set SMTP_HOST (and SMTP_USER, SMTP_PASS), or remove the SMTP lines',
          ),
        );
      }
      return worst(
        out,
        pass(
          'off (no SMTP_HOST): sign-up mails are not sent; the mailpit add-on catches them in development',
        ),
      );
    }
    const missing = [
      smtp.user === undefined && 'SMTP_USER',
      smtp.password === undefined && 'SMTP_PASS',
    ].filter((k): k is string => k !== false);
    if (missing.length > 0) {
      out.push(
        fail(
          `half-configured: SMTP_HOST is set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not (the SSO sends mail only with host, user and password)`,
          `set ${missing.join(', ')}, or remove SMTP_HOST to turn SMTP off`,
        ),
      );
    }
    if (smtp.port === 465 && !smtp.secure) {
      out.push(
        fail(
          'port 465 speaks TLS from the start but SMTP_SECURE is false',
          'set SMTP_SECURE=true for port 465 (or use port 587 with SMTP_SECURE=false)',
        ),
      );
    }
    if ((smtp.port === 587 || smtp.port === 25) && smtp.secure) {
      out.push(
        fail(
          `port ${smtp.port} starts in plain text (STARTTLS) but SMTP_SECURE is true`,
          `set SMTP_SECURE=false for port ${smtp.port} (or use port 465 with SMTP_SECURE=true)`,
        ),
      );
    }
    if (ruleProblem('hostname', smtp.host)) {
      const hostOnly = /^(?:[a-z]+:\/\/)?([^:/]+)/i.exec(smtp.host)?.[1] ?? 'smtp.example.com';
      out.push(
        fail(
          `SMTP_HOST "${smtp.host}" is not a host name (no scheme, port or path)`,
          `set SMTP_HOST=${hostOnly} and the port in SMTP_PORT`,
        ),
      );
    }
    // The one SMTP rule (lib/addon-release.ts): Mailpit on in the values wins, the env file's SMTP loses.
    if (mailpitOn(ctx.userValues))
      out.push(
        warn(
          smtpSetAside(settings, ctx.opts.envFile) ?? '',
          `nothing to fix while you test with Mailpit; to send real mail, turn it off: ${npmRun('addon', 'mailpit', '--remove')} (and drop mailpit.enabled from your -f file)`,
        ),
      );
    return worst(out, pass(`${smtp.host}:${smtp.port} (${smtp.secure ? 'TLS' : 'STARTTLS'})`));
  },
};

/** How the browser reaches the SSO and the API, and mail. */
export const ACCESS_CHECKS: readonly Check<PreflightContext>[] = [authUrl, authOrigins, apiCors, smtpConfig];
