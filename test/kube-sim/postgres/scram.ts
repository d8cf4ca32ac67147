import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

// RFC 3454 "commonly mapped to nothing" code points that SASLprep removes.
function mappedToNothing(cp: number): boolean {
  return (
    [0xad, 0x34f, 0x1806, 0x2060, 0xfeff].includes(cp) ||
    (cp >= 0x180b && cp <= 0x180d) ||
    (cp >= 0x200b && cp <= 0x200d) ||
    (cp >= 0xfe00 && cp <= 0xfe0f)
  );
}

/**
 * SASLprep as PostgreSQL applies it before hashing (close enough for test data):
 * ASCII passes through; otherwise non-ASCII spaces become U+0020, mapped-to-nothing
 * characters go, and the result is NFKC-normalised.
 */
export function saslPrep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  const spaced = password.replace(/\p{Zs}/gu, ' ');
  return Array.from(spaced)
    .filter((ch) => !mappedToNothing(ch.codePointAt(0) ?? 0))
    .join('')
    .normalize('NFKC');
}

/**
 * The stored form of a SCRAM-SHA-256 password, as `ALTER ROLE ... PASSWORD` accepts it.
 * Sending this instead of the password keeps the plaintext out of the server and its logs.
 */
export function scramVerifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
