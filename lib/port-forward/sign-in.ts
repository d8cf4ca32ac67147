import type { Settings } from '../env.ts';
import type { PortAssignment } from './ports.ts';

/**
 * Whether the browser can still sign in with these local ports. The SSO accepts requests only from the
 * origins in ALLOWED_ORIGINS and builds its links from BETTER_AUTH_URL: when the dashboard or the SSO is
 * forwarded to another port (taken, --auto-ports, --ports), those settings must follow, or sign-in fails
 * with "Invalid origin". Returns the warning and the exact settings to change, or undefined when they agree.
 */
export function signInMismatch(
  assignments: readonly PortAssignment[],
  settings: Pick<Settings, 'access' | 'sso'>,
): { message: string; hint: string } | undefined {
  if (settings.access !== 'port-forward') return undefined;
  const origin = (name: string) => {
    const a = assignments.find((x) => x.target.name === name);
    return a ? `http://localhost:${a.localPort}` : undefined;
  };
  const web = origin('web');
  const sso = origin('sso');
  const allowed = settings.sso.allowedOrigins.map((o) => o.replace(/\/+$/, ''));
  const authOrigin = URL.canParse(settings.sso.authUrl) ? new URL(settings.sso.authUrl).origin : undefined;
  const wrong: string[] = [];
  if (sso && authOrigin !== sso) wrong.push(`BETTER_AUTH_URL is ${settings.sso.authUrl}, not ${sso}`);
  const missing = [web, sso].filter((o): o is string => o !== undefined && !allowed.includes(o));
  if (missing.length > 0) wrong.push(`ALLOWED_ORIGINS lacks ${missing.join(' and ')}`);
  if (wrong.length === 0) return undefined;
  const where = [web && `the dashboard on ${web}`, sso && `the SSO on ${sso}`].filter(Boolean).join(' and ');
  const lines = [
    ...(sso && authOrigin !== sso ? [`BETTER_AUTH_URL=${sso}`] : []),
    ...(missing.length > 0 ? [`ALLOWED_ORIGINS=${[...allowed, ...missing].join(',')}`] : []),
  ];
  return {
    message: `sign-in will fail: the browser opens ${where}, but ${wrong.join('; ')}`,
    hint: `set ${lines.join(' and ')} in the env file and deploy again (the SSO reads them at start), or free the default ports and forward again`,
  };
}
