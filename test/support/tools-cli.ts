import { ensureToolset, TOOLSETS, type ToolsetName } from './tools.ts';

// `npm run tools`: extracts the test kubectl/helm binaries and prints export lines for a shell.
for (const name of Object.keys(TOOLSETS) as ToolsetName[]) {
  const t = ensureToolset(name);
  console.log(`# ${name}\nexport KUBECTL=${t.kubectl} HELM=${t.helm}`);
}
