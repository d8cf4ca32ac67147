import type { Settings } from './env.ts';
import type { ResolvedSecrets, SecretKey } from './secret-resolution.ts';
import type { Secret } from './secrets.ts';

/** env key -> the chart values it sets (empty: used by the scripts only). For `env-flow`. */
export const CHART_VALUE_PATHS: Readonly<Record<string, readonly string[]>> = {
  POSTGRES_SSO_PASSWORD: ['sso.database.password'],
  POSTGRES_API_PASSWORD: ['api.database.password'],
  BETTER_AUTH_SECRET: ['sso.auth.secret'],
  BETTER_AUTH_URL: ['sso.auth.url'],
  ALLOWED_ORIGINS: ['sso.auth.allowedOrigins', 'api.allowedOrigins'],
  NODE_ENV: ['sso.nodeEnv'],
  SMTP_HOST: ['sso.smtp.host'],
  SMTP_PORT: ['sso.smtp.port'],
  SMTP_USER: ['sso.smtp.user'],
  SMTP_PASS: ['sso.smtp.password'],
  SMTP_SECURE: ['sso.smtp.secure'],
  EMAIL_FROM: ['sso.smtp.from'],
  OPENAI_API_KEY: ['api.openaiApiKey'],
  TASKFLOW_NAMESPACE: [],
  TASKFLOW_RELEASE: [],
  TASKFLOW_ACCESS: [],
  TASKFLOW_IMAGE_TAG: ['global.imageTag'],
  TASKFLOW_STORAGE_CLASS: ['global.storageClass'],
  TASKFLOW_CONTEXT: [],
};

/**
 * Behind an ingress, the dashboard's origin: the one allowed origin besides the SSO's own. In port-forward
 * mode the chart's default (http://localhost:3000) is what the browser opens.
 */
export function ingressWebOrigin(settings: Settings): string | undefined {
  if (settings.access !== 'ingress' || !URL.canParse(settings.sso.authUrl)) return undefined;
  const sso = new URL(settings.sso.authUrl).origin;
  const others = settings.sso.allowedOrigins.filter((o) => o.replace(/\/$/, '') !== sso);
  return others.length === 1 ? others[0]?.replace(/\/$/, '') : undefined;
}

/**
 * The chart values for these settings: a plain object whose secrets stay `Secret` leaves; they are
 * revealed only when the values are written to helm's stdin (valuesStdin).
 * Unset optional settings emit no key, so values from `-f` files or the chart defaults stay in force; so
 * does a secret the release reads from the user's own Secret (an existingSecret: never sent, never
 * generated), which the chart would otherwise refuse as set twice.
 */
export function settingsToValues(
  settings: Settings,
  secrets: ResolvedSecrets,
  extra: { pgadmin?: boolean; mailpit?: boolean } = {},
): Record<string, unknown> {
  const { smtp } = settings.sso;
  const own = (key: SecretKey, value: Secret | undefined) =>
    value !== undefined && !secrets.existing.includes(key) ? value : undefined;
  const ssoPassword = own('POSTGRES_SSO_PASSWORD', secrets.ssoDbPassword);
  const authSecret = own('BETTER_AUTH_SECRET', secrets.authSecret);
  const apiPassword = own('POSTGRES_API_PASSWORD', secrets.apiDbPassword);
  const sso: Record<string, unknown> = {
    ...(ssoPassword && { database: { password: ssoPassword } }),
    auth: {
      ...(authSecret && { secret: authSecret }),
      url: settings.sso.authUrl,
      allowedOrigins: [...settings.sso.allowedOrigins],
    },
    nodeEnv: settings.sso.nodeEnv,
  };
  if (smtp) {
    sso.smtp = {
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.user !== undefined && { user: smtp.user }),
      ...(smtp.password !== undefined && { password: smtp.password }),
    };
  }
  // The sender travels on its own: Mailpit's SMTP (no SMTP_HOST) needs it as much as a real server.
  if (settings.sso.emailFrom !== undefined)
    sso.smtp = { ...(sso.smtp as object | undefined), from: settings.sso.emailFrom };
  const api: Record<string, unknown> = {
    ...(apiPassword && { database: { password: apiPassword } }),
    allowedOrigins: [...settings.api.allowedOrigins],
  };
  if (settings.api.openaiApiKey) api.openaiApiKey = settings.api.openaiApiKey;
  const values: Record<string, unknown> = { sso, api };
  const web = ingressWebOrigin(settings);
  if (web) values.web = { url: web };
  const global = {
    ...(settings.imageTag !== undefined && { imageTag: settings.imageTag }),
    ...(settings.storageClass !== undefined && { storageClass: settings.storageClass }),
  };
  if (Object.keys(global).length > 0) values.global = global;
  if (extra.pgadmin !== undefined) values.pgadmin = { enabled: extra.pgadmin };
  if (extra.mailpit !== undefined) values.mailpit = { enabled: extra.mailpit };
  return values;
}
