// What a person's journey reads of the release, and its steps.
import { APP } from './components.ts';
import type { Kubectl } from './kubectl.ts';

/** The settings of the release the journey depends on, read from its ConfigMaps. */
export interface ReleaseSettings {
  authUrl: string;
  allowedOrigins: string[];
  /** the dashboard's URL (NEXT_PUBLIC_APP_URL): where the browser is */
  webUrl: string;
  smtpHost?: string;
  smtpPort?: string;
  emailFrom?: string;
  verificationOff: boolean;
  /** the API's SSO_URL (where it reads the JWKS); undefined when the release has no API */
  apiSsoUrl?: string;
  /** the API accepts every caller as a fixed admin (DEV_MODE) */
  apiDevMode: boolean;
}

export const JOURNEY_STEPS = {
  'journey.sso': 'The SSO answers',
  'journey.signup': 'Sign-up from the dashboard',
  'journey.mail': 'The verification mail',
  'journey.signin': 'Verification and sign-in',
  'journey.oauth': 'OAuth sign-in as the dashboard',
  'journey.api': 'The API accepts the token',
  'journey.apps': 'The MCP server and the dashboard answer',
  'journey.cleanup': 'The throwaway account removed',
} as const;
export type JourneyStep = keyof typeof JOURNEY_STEPS;

/** Reads BETTER_AUTH_URL, ALLOWED_ORIGINS, SMTP and the dashboard's URL from the release's ConfigMaps. */
export async function readReleaseSettings(kubectl: Kubectl): Promise<ReleaseSettings | undefined> {
  const [sso, web, api] = await Promise.all(
    [APP.sso, APP.web, APP.api].map((a) =>
      kubectl.getOptional<{ data?: Record<string, string> }>('configmap', a.name),
    ),
  );
  const d = sso?.data;
  if (!d?.BETTER_AUTH_URL) return undefined;
  return {
    authUrl: d.BETTER_AUTH_URL,
    allowedOrigins: (d.ALLOWED_ORIGINS ?? '').split(','),
    webUrl: web?.data?.NEXT_PUBLIC_APP_URL ?? 'http://localhost:3000',
    ...(d.SMTP_HOST && { smtpHost: d.SMTP_HOST }),
    ...(d.SMTP_PORT && { smtpPort: d.SMTP_PORT }),
    ...(d.EMAIL_FROM && { emailFrom: d.EMAIL_FROM }),
    verificationOff: d.DISABLE_EMAIL_VERIFICATION === 'true',
    ...(api?.data?.SSO_URL && { apiSsoUrl: api.data.SSO_URL }),
    apiDevMode: api?.data?.DEV_MODE === 'true',
  };
}
