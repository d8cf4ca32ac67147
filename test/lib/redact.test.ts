import { describe, expect, it } from 'vitest';
import { Redactor } from '../../lib/redact.ts';
import { SECRET_MASK, Secret } from '../../lib/secrets.ts';

describe('Redactor', () => {
  it('masks a value it was given, also percent-encoded as a URL carries it', () => {
    const r = new Redactor();
    r.add(new Secret('p@ss:w/rd-0123456789'));
    expect(r.redact('password p@ss:w/rd-0123456789 in a line')).toBe(`password ${SECRET_MASK} in a line`);
    expect(r.redact('postgresql://u:p%40ss%3Aw%2Frd-0123456789@db:5432/x')).toBe(
      `postgresql://u:${SECRET_MASK}@db:5432/x`,
    );
  });

  it('leaves values shorter than 6 characters alone (they would mask ordinary words)', () => {
    const r = new Redactor();
    r.add('abc', undefined);
    expect(r.redact('abc abc')).toBe('abc abc');
  });
});
