// Shared pieces of the table printers: column definitions and field readers.
import { getPath, isObject, type JsonObject, type KObject } from '../types.ts';

export interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
}

export interface Printer {
  columns: Column[];
  cells(o: KObject): unknown[];
}

/** A column definition. */
export const col = (name: string, priority = 0, type = 'string', format = ''): Column => ({
  name,
  type,
  format,
  priority,
});
/** The Name column. */
export const NAME = col('Name', 0, 'string', 'name');
/** The Age column. */
export const AGE = col('Age');
/** A number field (0 when missing). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
/** A field as text, with a placeholder when missing. */
export const str = (v: unknown, dflt = '<none>'): string =>
  v === undefined || v === null || v === '' ? dflt : String(v);
/** The object's spec (empty when missing). */
export const spec = (o: KObject): JsonObject => (isObject(o.spec) ? o.spec : {});
/** The object's status (empty when missing). */
export const status = (o: KObject): JsonObject => (isObject(o.status) ? o.status : {});
/** The objects of a list field. */
export const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
/** The containers of a pod template. */
export const containersOf = (tpl: unknown): JsonObject[] => list(getPath(tpl, ['spec', 'containers']));
/** The container names of a pod template, comma-separated. */
export const names = (tpl: unknown): string =>
  containersOf(tpl)
    .map((c) => String(c.name))
    .join(',');
/** The container images of a pod template, comma-separated. */
export const images = (tpl: unknown): string =>
  containersOf(tpl)
    .map((c) => String(c.image))
    .join(',');
/** A LabelSelector's matchLabels as k=v,... */
export const selector = (sel: unknown): string => {
  const ml = getPath(sel, ['matchLabels']);
  return isObject(ml) && Object.keys(ml).length
    ? Object.entries(ml)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')
    : '<none>';
};
/** Is a status condition of this type True? */
export const condTrue = (o: KObject, type: string): boolean =>
  list(status(o).conditions).some((c) => c.type === type && c.status === 'True');
