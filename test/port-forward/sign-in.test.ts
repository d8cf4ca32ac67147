import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseOrigins } from '../../lib/env.ts';
import { signInMismatch } from '../../lib/forwarding.ts';
import type { PortAssignment } from '../../lib/forward-targets.ts';
import { FORWARD_TARGETS } from '../../lib/forward-targets.ts';

const at = (name: string, localPort: number, moved = false): PortAssignment => ({
  target: FORWARD_TARGETS.find((t) => t.name === name)!,
  localPort,
  ...(moved && { moved: { from: localPort - 2, holder: 'pid 1 (node)' } }),
});
const settings = (
  over: { authUrl?: string; origins?: string; access?: 'port-forward' | 'ingress' } = {},
) => ({
  access: over.access ?? ('port-forward' as const),
  sso: {
    authUrl: over.authUrl ?? DEFAULTS.authUrl,
    allowedOrigins: parseOrigins(over.origins ?? DEFAULTS.allowedOrigins),
    nodeEnv: 'development' as const,
  },
});

describe('--auto-ports and sign-in', () => {
  it('the default ports agree with the default settings: nothing to say', () => {
    expect(signInMismatch([at('web', 3000), at('sso', 3001), at('api', 8000)], settings())).toBeUndefined();
  });

  it('the dashboard and the SSO moved: names both settings and the exact lines to set', () => {
    const m = signInMismatch([at('web', 3002, true), at('sso', 3003, true)], settings());
    expect(m?.message).toBe(
      'sign-in will fail: the browser opens the dashboard on http://localhost:3002 and the SSO on http://localhost:3003, but BETTER_AUTH_URL is http://localhost:3001, not http://localhost:3003; ALLOWED_ORIGINS lacks http://localhost:3002 and http://localhost:3003',
    );
    expect(m?.hint).toContain(
      'set BETTER_AUTH_URL=http://localhost:3003 and ALLOWED_ORIGINS=http://localhost:3000,http://localhost:3001,http://localhost:3002,http://localhost:3003 in the env file and deploy again',
    );
  });

  it('only the dashboard moved: only ALLOWED_ORIGINS needs it', () => {
    const m = signInMismatch([at('web', 3005, true), at('sso', 3001)], settings());
    expect(m?.hint).toMatch(
      /^set ALLOWED_ORIGINS=http:\/\/localhost:3000,http:\/\/localhost:3001,http:\/\/localhost:3005 in/,
    );
  });

  it('settings that already allow the new ports, an API that moved, or ingress access: nothing to say', () => {
    const ready = settings({
      authUrl: 'http://localhost:4001',
      origins: 'http://localhost:4000,http://localhost:4001',
    });
    expect(signInMismatch([at('web', 4000), at('sso', 4001)], ready)).toBeUndefined();
    expect(signInMismatch([at('api', 8002, true)], settings())).toBeUndefined();
    expect(signInMismatch([at('web', 3002, true)], settings({ access: 'ingress' }))).toBeUndefined();
  });
});
