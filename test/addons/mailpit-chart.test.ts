import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { switchValues } from '../../lib/addons/index.ts';
import { findAddon } from '../../lib/addons/registry.ts';
import { renderChart } from '../../lib/chart.ts';
import { CHART_PATH, type ClusterSession } from '../../lib/context.ts';
import { Runner } from '../../lib/exec.ts';
import { Secret } from '../../lib/secrets.ts';
import { settingsToValues } from '../../lib/settings-values.ts';
import { toolset } from '../support/tools.ts';
import { testSession } from '../support/command-context.ts';
import { deepMerge } from '../../lib/values.ts';
import { MAILPIT_SMTP } from '../../lib/addon-catalog.ts';

interface Obj {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
}

const ENV =
  'SMTP_HOST=smtp.example.com\nSMTP_PORT=465\nSMTP_SECURE=true\nSMTP_USER=mailer\nSMTP_PASS=smtp-pass-abcdef123456\nEMAIL_FROM=noreply@example.com\n';

/** The SSO's ConfigMap and Secret data as the real chart renders them for these values. */
async function ssoConfig(
  values: Record<string, unknown>,
): Promise<{ cm: Record<string, string>; secretKeys: string[]; smtpPass?: string }> {
  const render = await renderChart(new Runner(), toolset('v35').helm, {
    values,
    chart: CHART_PATH,
    valuesFiles: [],
    target: { namespace: 'tf', release: 'taskflow' },
  });
  expect(render.ok, render.output).toBe(true);
  const docs = render.objects as unknown as Obj[];
  const find = (kind: string) => docs.find((o) => o.kind === kind && o.metadata.name === 'sso-platform');
  const secret = find('Secret')?.data ?? {};
  const pass = secret.SMTP_PASS;
  return {
    cm: find('ConfigMap')?.data ?? {},
    secretKeys: Object.keys(secret).sort(),
    ...(pass !== undefined && { smtpPass: Buffer.from(pass, 'base64').toString() }),
  };
}

describe('mailpit switch, rendered by the chart', () => {
  let session: ClusterSession;
  let cleanup: () => void;
  let base: Record<string, unknown>;
  beforeAll(() => {
    ({ session, cleanup } = testSession(new Runner(), ENV));
    const secret = new Secret('0123456789abcdef0123456789abcdef');
    base = settingsToValues(session.settings, {
      ssoDbPassword: secret,
      apiDbPassword: secret,
      authSecret: secret,
      sources: {
        POSTGRES_SSO_PASSWORD: 'env-file',
        POSTGRES_API_PASSWORD: 'env-file',
        BETTER_AUTH_SECRET: 'env-file',
      },
      written: [],
      existing: [],
    });
  });
  afterAll(() => cleanup());

  it('on: the SSO sends its mail to Mailpit; off: back to the env file SMTP settings', async () => {
    const mailpit = findAddon('mailpit')!;
    // The release's values while Mailpit is on: the env file's, with the switch-on values over them.
    const whileOn = deepMerge(base, switchValues(mailpit, true, session));
    const on = await ssoConfig(whileOn);
    expect(on.cm).toMatchObject({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025', SMTP_SECURE: 'false' });
    // The suite's copy of the chart's Mailpit SMTP (what the secret scans leave out) is the chart's.
    expect(on.cm).toMatchObject({
      SMTP_HOST: MAILPIT_SMTP.host,
      SMTP_PORT: String(MAILPIT_SMTP.port),
      SMTP_USER: MAILPIT_SMTP.user,
    });
    expect(on.smtpPass).toBe(MAILPIT_SMTP.password);
    expect(on.cm.DISABLE_EMAIL_VERIFICATION).toBeUndefined();
    // The switch-off upgrade reuses those values and puts the env file's SMTP settings back.
    const off = await ssoConfig(deepMerge(whileOn, switchValues(mailpit, false, session)));
    expect(off.cm).toMatchObject({
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
      SMTP_SECURE: 'true',
      SMTP_USER: 'mailer',
      EMAIL_FROM: 'noreply@example.com',
    });
    expect(off.secretKeys).toContain('SMTP_PASS');
    expect(JSON.stringify(off.cm)).not.toContain('smtp-pass-abcdef123456');
  });

  it("Mailpit on wins over the env file's SMTP host: rendered, not refused (the one SMTP rule)", async () => {
    // The env file's SMTP_* in the values beside mailpit.enabled, as deploy sends them while it is on.
    const on = await ssoConfig(deepMerge(base, { mailpit: { enabled: true } }));
    expect(on.cm).toMatchObject({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025', SMTP_USER: 'taskflow' });
    expect(on.smtpPass).toBe(MAILPIT_SMTP.password);
    expect(JSON.stringify(on.cm)).not.toContain('smtp.example.com');
  });

  it('an env file without SMTP: off leaves e-mail verification disabled, as before Mailpit', async () => {
    const bare = testSession(new Runner(), '');
    try {
      const mailpit = findAddon('mailpit')!;
      expect(switchValues(mailpit, false, bare.session)).toEqual({ mailpit: { enabled: false } });
      const { sso: _sso, ...rest } = base;
      const off = await ssoConfig(deepMerge(rest, switchValues(mailpit, false, bare.session)));
      expect(off.cm.SMTP_HOST).toBeUndefined();
      expect(off.cm.DISABLE_EMAIL_VERIFICATION).toBe('true');
    } finally {
      bare.cleanup();
    }
  });
});
