/**
 * A silent second reporter: after each run, writes every test file's duration (slowest first) to
 * .cache/test-durations.json, so the slow files of a whole `npm test` can be found without timing
 * them one by one. Prints nothing: `npm test` stays quiet when green.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

const root = join(import.meta.dirname, "..", "..");
const outputFile = join(root, ".cache", "test-durations.json");

export default class DurationsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const files = testModules
      .map((m) => ({
        file: relative(root, m.moduleId),
        project: m.project.name,
        // The tests and hooks, plus the import: what the file adds to a run's wall time.
        seconds: Math.round((m.diagnostic().duration + m.diagnostic().collectDuration) / 100) / 10,
        state: m.state(),
      }))
      .sort((a, b) => b.seconds - a.seconds);
    mkdirSync(dirname(outputFile), { recursive: true });
    writeFileSync(outputFile, `${JSON.stringify({ at: new Date().toISOString(), files }, null, 2)}\n`);
  }
}
