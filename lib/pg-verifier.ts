import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/** Whether a stored verifier accepts a password: `match`, `mismatch`, or `unknown` for a format we cannot check. */
export type VerifierMatch = 'match' | 'mismatch' | 'unknown';

const SCRAM = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * Checks a password against the verifier PostgreSQL keeps in pg_authid.rolpassword, the way the
 * server does at login (RFC 5802/7677 for SCRAM-SHA-256, `md5(password || user)` for md5). Unlike a
 * TCP login inside the pod, this does not depend on pg_hba.conf: the official image trusts loopback
 * TCP connections, which makes a login from inside the pod succeed with any password.
 */
export function verifierMatches(verifier: string, user: string, password: string): VerifierMatch {
  const v = verifier.trim();
  const scram = SCRAM.exec(v);
  if (scram) {
    const [, iterations, salt, storedKey, serverKey] = scram;
    const stored = Buffer.from(storedKey ?? '', 'base64');
    const server = Buffer.from(serverKey ?? '', 'base64');
    for (const candidate of saslPrepCandidates(password)) {
      const salted = pbkdf2Sync(
        candidate,
        Buffer.from(salt ?? '', 'base64'),
        Number(iterations),
        32,
        'sha256',
      );
      const clientKey = createHmac('sha256', salted).update('Client Key').digest();
      const s = createHash('sha256').update(clientKey).digest();
      const k = createHmac('sha256', salted).update('Server Key').digest();
      if (sameBytes(s, stored) && sameBytes(k, server)) return 'match';
    }
    return 'mismatch';
  }
  if (/^md5[0-9a-f]{32}$/.test(v)) {
    const expected = `md5${createHash('md5')
      .update(password + user)
      .digest('hex')}`;
    return sameBytes(Buffer.from(expected), Buffer.from(v)) ? 'match' : 'mismatch';
  }
  return 'unknown';
}

// RFC 3454 tables the server's SASLprep applies first: non-ASCII spaces map to a space (C.1.2),
// and some characters map to nothing (B.1), by code point so that no combining mark sits in a regex.
const NON_ASCII_SPACES = new Set([0xa0, 0x1680, 0x202f, 0x205f, 0x3000, ...range(0x2000, 0x200b)]);
const MAPPED_TO_NOTHING = new Set([
  0xad,
  0x34f,
  0x1806,
  0x200c,
  0x200d,
  0x2060,
  0xfeff,
  ...range(0x180b, 0x180d),
  ...range(0xfe00, 0xfe0f),
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// The server runs SASLprep on the password and falls back to the raw bytes when that fails; ASCII
// passwords are left as they are. Mapping plus NFKC covers the usual cases.
function saslPrepCandidates(password: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return [password];
  const mapped = [...password]
    .flatMap((c) => {
      const cp = c.codePointAt(0) ?? 0;
      if (MAPPED_TO_NOTHING.has(cp)) return [];
      return [NON_ASCII_SPACES.has(cp) ? ' ' : c];
    })
    .join('')
    .normalize('NFKC');
  return mapped === password ? [password] : [mapped, password];
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
