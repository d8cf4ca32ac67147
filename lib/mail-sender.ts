import { defaultSender } from './app-contract.ts';
import type { CheckResult } from './checks.ts';
import { type Values, getPath } from './values.ts';

/**
 * The sender the SSO's mail goes out with, as the chart decides it (templates/_secrets.tpl,
 * taskflow.sso.smtp): `sso.smtp.from`, else the chart's default sender, whenever SMTP reaches the SSO.
 * validate judges it on the rendered chart; deploy, which renders nothing itself, on the merged values
 * (chart defaults, its own values, the -f files) it sends: the same warning from both.
 */

export const SENDER_CHECK = { id: 'smtp.sender', title: 'Mail sender (EMAIL_FROM)' } as const;

export const SENDER_HINT =
  'set EMAIL_FROM in the env file (or sso.smtp.from), e.g. EMAIL_FROM="TaskFlow <no-reply@your-domain.example>"';

/** What a real SMTP server does with the chart's default sender. */
export function defaultSenderDetail(host: string): string {
  return `${host} gets the chart's default sender ${defaultSender()}: a real SMTP server usually refuses (or files as spam) a sender outside your own domain`;
}

/**
 * The smtp.sender warning for the merged chart values a deploy sends, or undefined: only when a real SMTP
 * server (not Mailpit) would get the chart's default sender.
 */
export function defaultSenderWarning(merged: Values): CheckResult | undefined {
  if (getPath(merged, 'mailpit.enabled') === true) return undefined;
  const host = getPath(merged, 'sso.smtp.host');
  if (typeof host !== 'string' || host === '') return undefined;
  const from = getPath(merged, 'sso.smtp.from');
  const sender = typeof from === 'string' && from !== '' ? from : defaultSender();
  if (sender !== defaultSender()) return undefined;
  return { ...SENDER_CHECK, status: 'warn', detail: defaultSenderDetail(host), hint: SENDER_HINT };
}
