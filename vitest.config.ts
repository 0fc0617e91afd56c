import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that change the lab's shape (a third cluster) run after every other one of their tier. */
class ShapeLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => /three-clusters\.test\.ts$/.test(f.moduleId);
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

// Tiers: unit (pure, fast), integration (the engine against the lab's real API servers, no Istio), lab (the
// lab's clusters and lifecycle, the package), e2e (real lab with Istio).
export default defineConfig({
  test: {
    // A root option (vitest ignores it inside a project): with it in the e2e project, file size decided the
    // order on a fresh clone, and the three-cluster file ran third once it grew.
    sequence: { sequencer: ShapeLastSequencer },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/lab-global-setup.ts'],
          setupFiles: ['test/register-lab.ts'],
          testTimeout: 300_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
      {
        // The lab itself (its clusters, its lifecycle: killed, down and up again) and the installable package.
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          globalSetup: ['test/lab-global-setup.ts'],
          setupFiles: ['test/register-lab.ts'],
          testTimeout: 900_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/lab-global-setup.ts'],
          setupFiles: ['test/register-lab.ts'],
          testTimeout: 900_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
