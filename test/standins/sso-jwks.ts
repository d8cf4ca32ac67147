// The SSO's JWT plugin key settings (sso-platform/src/lib/auth.ts:548 at 2749a2b): RS256, a new key
// every 90 days with 30 days of grace, private keys encrypted with BETTER_AUTH_SECRET. One record for
// the SSO stand-in and the tests of the keys against the real plugin.
export const SSO_JWKS = {
  keyPairConfig: { alg: 'RS256' },
  rotationInterval: 60 * 60 * 24 * 90,
  gracePeriod: 60 * 60 * 24 * 30,
  disablePrivateKeyEncryption: false,
} as const;
