import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

// RFC 3454 "commonly mapped to nothing" code points that SASLprep removes.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/**
 * SASLprep as PostgreSQL applies it before hashing (close enough for test data):
 * ASCII passes through; otherwise non-ASCII spaces become U+0020, mapped-to-nothing
 * characters go, and the result is NFKC-normalised.
 */
export function saslPrep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  return password
    .replace(/\p{Zs}/gu, ' ')
    .replace(MAPPED_TO_NOTHING, '')
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
