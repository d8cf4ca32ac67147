// deploy's smtp.sender warning is judged on the merged values it sends; validate's on the rendered
// chart. Both must agree with what the chart actually gives the SSO: checked here against the render.
import { describe, expect, it } from 'vitest';
import { defaultSender } from '../../lib/app-contract.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { deployValues } from '../../lib/deploy/plan.ts';
import { parseSettings } from '../../lib/env.ts';
import { defaultSenderWarning } from '../../lib/mail-sender.ts';
import { RESOLVED_SECRETS } from '../support/secrets.ts';
import { type Values, chartValues, deepMerge } from '../../lib/values.ts';
import { renderChart } from '../support/chart.ts';

const secrets = RESOLVED_SECRETS;
const SMTP = { SMTP_HOST: 'smtp.example.com', SMTP_USER: 'mailer', SMTP_PASS: 'smtp-pass-0123456789' };

const CASES: { name: string; env: Record<string, string>; file?: Values; warns: boolean }[] = [
  { name: 'SMTP without EMAIL_FROM', env: SMTP, warns: true },
  {
    name: 'SMTP with EMAIL_FROM',
    env: { ...SMTP, EMAIL_FROM: 'TaskFlow <no-reply@example.com>' },
    warns: false,
  },
  {
    name: 'SMTP, the sender from a -f file',
    env: SMTP,
    file: { sso: { smtp: { from: 'Ops <ops@example.com>' } } },
    warns: false,
  },
  { name: 'SMTP, with Mailpit on', env: SMTP, file: { mailpit: { enabled: true } }, warns: false },
  { name: 'SMTP off', env: {}, warns: false },
  {
    name: 'SMTP only from a -f file',
    env: {},
    file: { sso: { smtp: { host: 'mx.example.com', user: 'u', password: 'p-0123456789' } } },
    warns: true,
  },
];

describe("deploy's smtp.sender warning", () => {
  it.each(CASES)('$name: as the rendered chart gives the SSO', async ({ env, file, warns }) => {
    const settings = parseSettings(
      { path: '.env', exists: false, entries: new Map(), duplicates: new Map() },
      env,
    ).settings;
    const values = deployValues({ settings, secrets });
    const sent = file ? deepMerge(values, file) : values;
    const objects = await renderChart({ values: sent });
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sso-platform') as
      { data?: Record<string, string> } | undefined;
    const host = cm?.data?.SMTP_HOST ?? '';
    const rendered = host !== '' && host !== 'mailpit' && cm?.data?.EMAIL_FROM === defaultSender();
    expect(rendered).toBe(warns);
    const warning = defaultSenderWarning(chartValues(CHART_PATH, values, ...(file ? [file] : [])));
    expect(warning !== undefined).toBe(warns);
    if (warning)
      expect(warning).toMatchObject({
        id: 'smtp.sender',
        status: 'warn',
        detail: `${host} gets the chart's default sender ${defaultSender()}: a real SMTP server usually refuses (or files as spam) a sender outside your own domain`,
      });
  });
});
