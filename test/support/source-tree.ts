import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LayoutName, loadContract } from '../../lib/app-contract.ts';

/**
 * A generated TaskFlow source tree in one of the two layouts: a Dockerfile per app and the SSO's trusted
 * clients file, shaped like the real one (the public client's redirect URIs, optionally through the
 * production filter of the apps/ layout). Enough for --build to find its contexts and for validate to
 * read the redirect URIs; no application code.
 */
export function makeSourceTree(
  layout: LayoutName,
  opts: { redirectUris?: string[]; productionFilter?: boolean } = {},
): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tf-src-${layout}-`));
  const folders = loadContract().source.layouts[layout];
  for (const app of ['sso', 'api', 'mcp', 'web'] as const) {
    const d = path.join(dir, folders[app]);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'Dockerfile'), `FROM scratch AS builder\nFROM scratch AS runner\n# ${app}\n`);
    writeFileSync(path.join(d, 'package.json'), `{"name":"${app}"}\n`);
  }
  const uris = opts.redirectUris ?? [
    'http://localhost:3000/api/auth/callback',
    'https://taskflow.org/api/auth/callback',
  ];
  const filtered = opts.productionFilter ?? layout === 'monorepo';
  const list = uris.map((u) => `      "${u}",`).join('\n');
  const clients = [
    filtered
      ? [
          'function filterRedirectUrls(urls: string[]): string[] {',
          '  if (process.env.NODE_ENV !== "production") {',
          '    return urls;',
          '  }',
          '  return urls.filter((u) => new URL(u).hostname !== "localhost");',
          '}',
        ].join('\n')
      : '',
    'export const TRUSTED_CLIENTS = [',
    '  {',
    '    clientId: "robolearn-public-client",',
    '    redirectUrls: ["http://localhost:3000/auth/callback"],',
    '  },',
    '  {',
    '    clientId: "taskflow-sso-public-client",',
    '    name: "Taskflow SSO",',
    `    redirectUrls: ${filtered ? 'filterRedirectUrls([' : '['}`,
    list,
    `    ]${filtered ? ')' : ''},`,
    '  },',
    '];',
    '',
  ].join('\n');
  const lib = path.join(dir, folders.sso, 'src', 'lib');
  mkdirSync(lib, { recursive: true });
  writeFileSync(path.join(lib, 'trusted-clients.ts'), clients);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
