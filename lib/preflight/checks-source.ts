import { APP } from '../components.ts';
import path from 'node:path';
import {
  type LayoutName,
  acceptedRedirects,
  chatSslmodes,
  contractApp,
  defaultSender,
  describeSource,
  detectLayout,
  isNeonHost,
  loadContract,
  readTrustedClient,
  recordedTrustedClient,
  ruleProblem,
  ssoDriver,
  type SourceRef,
  type TrustedClientFacts,
} from '../app-contract.ts';
import { type Check, fail, pass, skip, warn } from '../checks.ts';
import { containersOf, findWorkload, podSpecOf, resolveEnv } from '../workload-env.ts';
import type { KubeObject } from '../kubectl.ts';
import { getPath } from '../values.ts';
import type { PreflightContext } from './context.ts';
import { npmRun } from '../suggest.ts';
import { SENDER_CHECK, SENDER_HINT, defaultSenderDetail } from '../mail-sender.ts';

/**
 * Checks that the applications' own source requires (charts/taskflow/app-contract.yaml): a mail sender
 * whenever SMTP reaches the SSO, a web origin the SSO's OAuth client accepts, an SSO database its driver
 * can reach, and a chat-store URL the API can use.
 */

const contract = () => loadContract();
const sso = () => contractApp(contract(), 'sso');
const where = (ref: unknown) => describeSource(contract(), 'sso', ref as SourceRef);

/** A container variable of the render, or undefined when the chart did not render or lacks it. */
async function rendered(
  ctx: PreflightContext,
  workload: string,
  container: string,
  name: string,
): Promise<{ objects: readonly KubeObject[]; value: string | undefined } | undefined> {
  const render = await ctx.render();
  if (!render?.ok) return undefined;
  const w = findWorkload(render.objects, { kind: 'Deployment', name: workload });
  if (!w) return { objects: render.objects, value: undefined };
  const c = containersOf(podSpecOf(w), false).find((x) => x.name === container);
  const r = c ? resolveEnv(c, name, render.objects) : undefined;
  return { objects: render.objects, value: r?.found ? (r.value ?? '') : undefined };
}

const smtpSender: Check<PreflightContext> = {
  ...SENDER_CHECK,
  run: async (ctx) => {
    const { emailFrom } = ctx.env.settings.sso;
    const mail = sso().facts?.mail as { source: SourceRef };
    const rule = `the SSO sends mail only with a sender and has no default (${where(mail.source)})`;
    const hint = SENDER_HINT;
    if (emailFrom !== undefined) {
      const bad = ruleProblem('email-sender', emailFrom);
      if (bad) return fail(`EMAIL_FROM "${emailFrom}" is ${bad}: ${rule}`, hint);
    }
    const host = await rendered(ctx, APP.sso.name, APP.sso.name, 'SMTP_HOST');
    if (!host) {
      if (!ctx.env.settings.sso.smtp)
        return skip('the chart did not render (see chart.render); SMTP is off in the settings');
      return emailFrom
        ? pass(`from ${emailFrom}`)
        : warn(`SMTP is on without EMAIL_FROM: the chart's default sender ${defaultSender()} applies`, hint);
    }
    if (host.value === undefined || host.value === '') {
      return pass('SMTP is off: the SSO sends no mail, and e-mail verification is off so sign-in works');
    }
    const sender = (await rendered(ctx, APP.sso.name, APP.sso.name, 'EMAIL_FROM'))?.value;
    if (sender === undefined || sender.trim() === '') {
      return fail(
        `SMTP reaches the SSO (${host.value}) but EMAIL_FROM does not: ${rule}, so no verification mail is sent and new users can never sign in`,
        hint,
      );
    }
    const bad = ruleProblem('email-sender', sender);
    if (bad) return fail(`the SSO's EMAIL_FROM "${sender}" is ${bad}: ${rule}`, hint);
    if (sender === defaultSender() && host.value !== 'mailpit') {
      return warn(defaultSenderDetail(host.value), hint);
    }
    return pass(`from ${sender} via ${host.value}`);
  },
};

/**
 * The taskflow client's redirect URIs: read from the SSO source when a source folder is named, else the
 * list the contract recorded for the default layout. `from` says where the list came from.
 */
function trustedClient(ctx: PreflightContext): {
  facts: TrustedClientFacts;
  from: string;
  layout: LayoutName;
  note?: string;
} {
  const c = contract();
  const found = ctx.src === undefined ? undefined : detectLayout(ctx.src, c);
  const layout = found ?? c.source.defaultLayout;
  const ssoDir = c.source.layouts[layout].sso;
  if (ctx.src !== undefined && found) {
    const read = readTrustedClient(path.join(ctx.src, ssoDir), c);
    if (read) return { facts: read, from: `${ssoDir}/${read.source} in ${ctx.src}`, layout };
  }
  const facts = recordedTrustedClient(layout, c);
  const from = `${ssoDir}/${facts.source}, as recorded in the app contract`;
  if (ctx.src === undefined) return { facts, from: `${from}; --src checks your checkout`, layout };
  return {
    facts,
    from,
    layout,
    note: found
      ? `${path.join(ctx.src, ssoDir)}/src/lib/trusted-clients.ts has no taskflow-sso-public-client: the recorded list is used`
      : `${ctx.src} holds neither source layout (sso-platform/... or apps/sso/...): the recorded list is used`,
  };
}

const authRedirect: Check<PreflightContext> = {
  id: 'auth.redirect',
  title: "Web origin accepted by the SSO's OAuth client",
  run: (ctx) => {
    const web = getPath(ctx.chartValues, 'web.url');
    if (typeof web !== 'string' || web === '') return skip('web.url is not set in the values');
    const redirect = `${web.replace(/\/$/, '')}/api/auth/callback`;
    const tc = trustedClient(ctx);
    const accepted = acceptedRedirects(tc.facts);
    const clientId = (sso().facts?.trustedClients as { clientId: string }).clientId;
    if (accepted.includes(redirect)) {
      return tc.note
        ? warn(tc.note, 'set --src (or TASKFLOW_SRC) to the folder holding the TaskFlow sources')
        : pass(`${redirect} is a redirect URI of ${clientId} (${tc.from})`);
    }
    const dropped = tc.facts.productionDropsLocalhost && tc.facts.redirectUris.includes(redirect);
    return fail(
      `the SSO refuses sign-in from ${web}: ${clientId} accepts only ${accepted.join(', ') || 'no redirect URI'} (${tc.from})` +
        (dropped
          ? '; its production build drops localhost redirect URIs, and the image always runs in production'
          : '') +
        '. The list is in the SSO source, not in any setting.',
      `add ${redirect} to the redirectUrls of ${clientId} in ${contract().source.layouts[tc.layout].sso}/src/lib/trusted-clients.ts and rebuild the SSO (${npmRun('deploy', '--build')}), or open the dashboard at one of the accepted URLs (web.url)`,
    );
  },
};

const ssoDbDriver: Check<PreflightContext> = {
  id: 'db.sso-driver',
  title: "SSO database reachable by the SSO's driver",
  run: (ctx) => {
    const v = ctx.chartValues;
    const host = getPath(v, 'sso.database.host');
    const driver = sso().facts?.driver as { source: SourceRef };
    if (getPath(v, 'sso.enabled') === false) return skip('the SSO is disabled');
    if (typeof host !== 'string' || host === '') {
      return pass('in-cluster database: its URL carries sslmode=disable, so the SSO uses plain PostgreSQL');
    }
    const given = getPath(v, 'sso.database.sslmode');
    const mode = typeof given === 'string' && given !== '' ? given : 'require';
    const url = `postgresql://user@${host}/db?sslmode=${mode}`;
    const rule = `the SSO uses plain PostgreSQL only when DATABASE_URL holds localhost, 127.0.0.1 or sslmode=disable, and Neon's HTTP driver otherwise (${where(driver.source)})`;
    if (ssoDriver(url) === 'neon') {
      if (isNeonHost(host))
        return pass(`${host} is a Neon host: the SSO uses Neon's HTTP driver (sslmode=${mode})`);
      return fail(
        `${host} (sslmode=${mode}) is not a Neon host: ${rule}, so its migrations and every sign-in would fail`,
        'use a Neon database (host *.neon.tech), or set sso.database.sslmode: disable for a PostgreSQL inside your network',
      );
    }
    return warn(
      `${host} with sslmode=${mode}: the SSO uses plain PostgreSQL without TLS (${rule})`,
      'keep this database inside your network, or move the SSO database to Neon',
    );
  },
};

const chatSslmode: Check<PreflightContext> = {
  id: 'db.chat-sslmode',
  title: "API chat store's database URL",
  run: async (ctx) => {
    const api = contractApp(contract(), 'api');
    const src = describeSource(contract(), 'api', api.facts?.chatSource as SourceRef);
    const modes = chatSslmodes();
    if (getPath(ctx.chartValues, 'api.enabled') === false) return skip('the API is disabled');
    const live = await rendered(ctx, APP.api.name, APP.api.name, 'TASKFLOW_CHATKIT_DATABASE_URL');
    if (live?.value !== undefined) {
      const bad = ruleProblem('chat-database-url', live.value);
      if (bad) {
        return fail(
          `TASKFLOW_CHATKIT_DATABASE_URL: ${bad} (${src}); the API starts, but /chatkit answers 503`,
          `give the chat store sslmode ${modes.join('/')}, or asyncpg's ssl= parameter directly (the bundled chart does so for verify-ca/verify-full)`,
        );
      }
      const mode = /[?&](?:ssl|sslmode)=([\w-]+)/.exec(live.value)?.[1] ?? 'default';
      return pass(
        `the chat store's URL uses ${mode.includes('verify') ? `ssl=${mode}` : `sslmode=${mode}`}, which it accepts`,
      );
    }
    const given = getPath(ctx.chartValues, 'api.database.sslmode');
    const mode = typeof given === 'string' && given !== '' ? given : '(chart default)';
    if (modes.includes(mode) || mode === '(chart default)')
      return pass(`sslmode ${mode}: the chat store converts it`);
    return pass(`sslmode ${mode}: the chart gives the chat store ssl=${mode}, which it passes to asyncpg`);
  },
};

/** The checks drawn from the applications' source. */
export const SOURCE_CHECKS: readonly Check<PreflightContext>[] = [
  smtpSender,
  authRedirect,
  ssoDbDriver,
  chatSslmode,
];
