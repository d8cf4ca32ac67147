import type { Logger } from '../log.ts';
import {
  type ImagesVerdict,
  type NodeImages,
  buildingFrom,
  judgeImages,
  missingImagesError,
  platformImages,
} from '../images.ts';
import type { Place } from '../kube-context.ts';
import { type Values, chartValues } from '../values.ts';
import { type PlanInput, deployValues } from './plan.ts';

/** What the image check of a deploy (or its dry run) needs. */
export interface ImagesGateInput {
  log: Logger;
  place: Place | undefined;
  /** the Nodes' image lists; a failed read cannot tell */
  nodes: Promise<NodeImages>;
  /**
   * The values inputs as deploy makes them (settings, secrets, add-ons, the installed release's values);
   * undefined when the installed release could not be read: then it cannot tell (release.status says why).
   */
  plan: PlanInput | undefined;
  chart: string;
  userValues: Values;
  /** the TaskFlow source (--src, TASKFLOW_SRC), when one is named */
  src: string | undefined;
  /** the target options of the command line, for the command the refusal names */
  targetArgs: readonly string[];
}

/**
 * Before anything is written: whether the TaskFlow images the release would run can start. Missing
 * ones are built first when the TaskFlow source is known (returns true, and says so); without it the
 * deploy is refused (a UsageError, exit 2) with the images and the command that builds them.
 */
export async function imagesGate(input: ImagesGateInput): Promise<boolean> {
  const verdict = await judgeDeploy(input);
  if (verdict.status === 'ok') input.log.success(verdict.detail);
  if (verdict.status !== 'missing') return false;
  if (input.src === undefined) throw missingImagesError(verdict, input.targetArgs);
  input.log.warn(buildingFrom(verdict, input.src));
  return true;
}

/** The verdict of the image check (its Nodes read awaited; a failed read cannot tell). */
export async function judgeDeploy(input: ImagesGateInput): Promise<ImagesVerdict> {
  if (!input.place?.local) return judgeImages([], input.place, undefined);
  let nodes: NodeImages;
  try {
    nodes = await input.nodes;
  } catch (err) {
    return {
      status: 'unknown',
      missing: [],
      detail: `cannot tell: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (!input.plan)
    return { status: 'unknown', missing: [], detail: 'cannot tell: the release could not be read' };
  // The secrets in these values change no image: the images are those the release would get.
  const values = chartValues(input.chart, deployValues(input.plan), input.userValues);
  return judgeImages(platformImages(values, input.chart), input.place, nodes);
}
