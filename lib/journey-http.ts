// What a journey needs of HTTP that fetch does not give: a browser's cookie jar, lenient JSON, origins.

/** A browser's cookies for one site: what Set-Cookie gave, sent back on every request. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): Record<string, string> {
    return this.cookies.size === 0
      ? {}
      : { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }
}

/** A response's JSON document; undefined when it is none (a pod that answers something else). */
export async function jsonOf<T>(res: Response): Promise<T | undefined> {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export const originOf = (url: string): string => (URL.canParse(url) ? new URL(url).origin : url);
