import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_PATH } from './context.ts';
import { npmRun } from './suggest.ts';

/** The chart's appVersion: the tag of the TaskFlow images when neither a tag nor --build sets one. */
export function chartAppVersion(chartDir: string = CHART_PATH): string | undefined {
  try {
    const text = readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8');
    return /^appVersion:\s*['"]?([^'"\s]+)['"]?\s*$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Says so plainly when an image is a TaskFlow image with the chart's default tag: the TaskFlow images are
 * not published anywhere, so no registry and no build produces that tag. Undefined for any other image.
 */
export function defaultTagProblem(image: string, chartDir: string = CHART_PATH): string | undefined {
  const m = /^(?:[\w.-]+(?::\d+)?\/)?(taskflow\/[\w.-]+):([\w.-]+)$/.exec(image);
  const version = chartAppVersion(chartDir);
  if (!m || version === undefined || m[2] !== version) return undefined;
  return `${image} carries the chart's default tag ${version}, which no build produces (the TaskFlow images are not published): build them into the cluster with ${npmRun('deploy', '--build')} (TASKFLOW_SRC set to your TaskFlow checkout), or set TASKFLOW_IMAGE_TAG to a tag you built and pushed`;
}
