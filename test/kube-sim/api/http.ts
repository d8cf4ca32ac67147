// HTTP plumbing of the API server: bodies in, JSON and Status objects out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobufObject, isProtobuf } from '../protobuf/decode.ts';
import { KubeSimError } from '../runtime.ts';

/** Reads a request body whole. */
export function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new KubeSimError(413, 'request entity too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a body by its content type: JSON, YAML (apply patches) or Kubernetes protobuf. */
export function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const ct = (contentType ?? '').split(';')[0]?.trim() ?? '';
  if (ct === 'application/vnd.kubernetes.protobuf' || isProtobuf(body)) return decodeProtobufObject(body);
  const text = body.toString('utf8');
  if (!text.trim())
    throw new KubeSimError(
      400,
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (ct.includes('yaml')) {
      try {
        return parseYaml(text) as unknown;
      } catch (e) {
        throw new KubeSimError(400, `error decoding YAML: ${(e as Error).message}`);
      }
    }
    throw new KubeSimError(
      400,
      `couldn't get version/kind; json parse error: invalid character in request body`,
    );
  }
}

/** Sends a JSON document. */
export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

/** The Kubernetes Status object of an error. */
export function statusOf(
  err: unknown,
  details?: Record<string, unknown>,
): { code: number; body: Record<string, unknown> } {
  const code = err instanceof KubeSimError ? err.statusCode : 500;
  const reason = err instanceof KubeSimError ? err.reason : 'InternalError';
  const message = err instanceof Error ? err.message : String(err);
  const causes = (err as { causes?: unknown }).causes;
  const d = { ...details, ...(causes !== undefined && { causes }) };
  return {
    code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(Object.keys(d).length > 0 && { details: d }),
      code,
    },
  };
}

/** Sends an error as a Status object. */
export function sendError(res: ServerResponse, err: unknown, details?: Record<string, unknown>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { code, body } = statusOf(err, details);
  sendJson(res, code, body);
}
