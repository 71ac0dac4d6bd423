import { join } from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { ensureServerCert } from "./sim/certs.js";

// `npm test` runs the reliability scenarios but the slow CLI fuzzing (30 spawns); `npm run
// test:reliability` sets MDE_RELIABILITY=full and runs them all.
const slowReliability =
  process.env.MDE_RELIABILITY === "full" ? [] : ["test/reliability/hostile-cli.test.ts"];

// Node reads NODE_EXTRA_CA_CERTS only when a process starts, so the test certificate must exist
// and the variable be set here, before vitest forks its workers (they inherit this environment).
const certDir = join(import.meta.dirname, ".cache", "test-certs");
const { certPath } = ensureServerCert(certDir);
process.env.NODE_EXTRA_CA_CERTS = certPath;
process.env.MDE_TEST_CERT_DIR = certDir;

export default defineConfig({
  test: {
    // The second reporter writes each file's duration to .cache/test-durations.json, silently.
    reporters: ["dot", "./test/support/durations-reporter.ts"],
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts", "sim/**/*.test.ts"], environment: "node" },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          // Generous: several tests start a handful of CLI processes (node and tsx, seconds each on a
          // busy 2-core machine); a deadline here is a hang guard, never the property tested.
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // Faults at scale (issue #7): `npm run test:reliability`; docs/reliability.md has the figures.
        test: {
          name: "reliability",
          include: ["test/reliability/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...slowReliability],
          // A group of its own: never beside the integration tests, whose files run one at a time
          // in vitest's sequential group; its timings assume the machine to itself.
          sequence: { groupOrder: 1 },
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
