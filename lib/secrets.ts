import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

const MASK = '••••••';

/**
 * A secret value that masks itself wherever it might be printed: string
 * conversion, template literals, JSON, util.inspect. Call `reveal()` only where
 * the value goes to stdin of a child process or into a file.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  get length(): number {
    return this.#value.length;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [Symbol.toPrimitive](): string {
    return MASK;
  }
  [inspect.custom](): string {
    return `Secret(${MASK})`;
  }
  equals(other: Secret | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }
}

export const SECRET_MASK = MASK;

/** A new random secret: 16 bytes from the crypto RNG as 32 hex characters (URL-safe everywhere). */
export function generateSecret(bytes = 16): Secret {
  return new Secret(randomBytes(bytes).toString('hex'));
}
