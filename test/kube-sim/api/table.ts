// Server-side printing: objects as meta.k8s.io/v1 Tables (`Accept: ...;as=Table`), with
// includeObject=None|Metadata|Object, and the metadata-only forms some clients ask for.
import type { KObject } from '../types.ts';
import { printerOf } from './printers.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The representation an Accept header asks for. */
export function wantedForm(accept: string | undefined): 'Table' | 'PartialObjectMetadata' | 'Object' {
  for (const part of (accept ?? '').split(',')) {
    const p = part.replace(/\s/g, '');
    if (p.includes('as=Table') && p.includes('g=meta.k8s.io')) return 'Table';
    if (p.includes('as=PartialObjectMetadata') && p.includes('g=meta.k8s.io')) return 'PartialObjectMetadata';
    if (
      p.startsWith('application/json') ||
      p.startsWith('application/yaml') ||
      p.startsWith('*/*') ||
      p.startsWith('application/vnd.kubernetes.protobuf')
    )
      return 'Object';
  }
  return 'Object';
}

/** The response content type of a form. */
export function contentTypeOf(form: ReturnType<typeof wantedForm>): string {
  if (form === 'Table') return 'application/json;as=Table;v=v1;g=meta.k8s.io';
  if (form === 'PartialObjectMetadata') return 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io';
  return 'application/json';
}

/** An object's metadata-only form. */
export function partial(o: KObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** A Table of objects of one kind. */
export function toTable(
  kind: string,
  objects: KObject[],
  opts: { includeObject?: IncludeObject; noHeaders?: boolean; resourceVersion?: string },
): Record<string, unknown> {
  const printer = printerOf(kind);
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: opts.resourceVersion ?? '' },
    columnDefinitions: opts.noHeaders
      ? null
      : printer.columns.map((c) => ({
          name: c.name,
          type: c.type,
          format: c.format ?? '',
          description: '',
          priority: c.priority ?? 0,
        })),
    rows: objects.map((o) => ({
      cells: printer.cells(o),
      ...(include === 'Object' && { object: o }),
      ...(include === 'Metadata' && { object: partial(o) }),
    })),
  };
}
