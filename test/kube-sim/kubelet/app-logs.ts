// Start-up lines of simulated applications, so `kubectl logs` shows something realistic.
import { imageRepository } from '../scenario.ts';
import type { JsonObject } from '../types.ts';

/** What a healthy container prints when it starts. */
export function startupLines(container: JsonObject, runsToCompletion: boolean): string[] {
  const repo = imageRepository(String(container.image ?? ''));
  const ports = (Array.isArray(container.ports) ? container.ports : []) as JsonObject[];
  const port = Number(ports[0]?.containerPort ?? 8080);
  if (runsToCompletion) {
    const cmd = [
      ...((container.command as string[] | undefined) ?? []),
      ...((container.args as string[] | undefined) ?? []),
    ].join(' ');
    return [`Running ${cmd || repo}`, 'Done.'];
  }
  if (/api|mcp|python|fastapi|uvicorn/.test(repo)) {
    return [
      'INFO:     Started server process [1]',
      'INFO:     Waiting for application startup.',
      'INFO:     Application startup complete.',
      `INFO:     Uvicorn running on http://0.0.0.0:${port} (Press CTRL+C to quit)`,
    ];
  }
  if (/web|sso|next|node/.test(repo)) {
    return [
      '   ▲ Next.js 15.5.4',
      `   - Local:        http://localhost:${port}`,
      `   - Network:      http://0.0.0.0:${port}`,
      '',
      ' ✓ Starting...',
      ' ✓ Ready in 312ms',
    ];
  }
  return [`Starting ${repo}`, `Listening on 0.0.0.0:${port}`];
}
