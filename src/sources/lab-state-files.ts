// Where the lab keeps its state on this machine: its kubeconfig (a fallback when it alone has the spec's
// contexts) and the image of eastwest that `lab up` loaded (what the in-cluster sync controller runs in
// the lab). The lab writes them; only the lab (its provider, src/lab/provider.ts) reads them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAB_STATE_ROOT = '/var/lib/eastwest-lab';
export const LAB_KUBECONFIG = join(LAB_STATE_ROOT, 'kubeconfig');
/** The name of eastwest's own image (the in-cluster sync controller) that `lab up` last loaded into the nodes. */
export const LAB_EASTWEST_IMAGE_FILE = join(LAB_STATE_ROOT, 'eastwest-image');

/**
 * The lab's image of eastwest: part of the lab (built and loaded by `lab up` from the eastwest that ran
 * it), so that what apply and diff want does not depend on where the eastwest running them is installed.
 */
export function readLabEastwestImage(): string | undefined {
  try {
    return readFileSync(LAB_EASTWEST_IMAGE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function recordLabEastwestImage(image: string): void {
  writeFileSync(LAB_EASTWEST_IMAGE_FILE, `${image}\n`);
}
