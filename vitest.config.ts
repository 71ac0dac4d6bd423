import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { ensureServerCert } from "./sim/certs.js";

// Node reads NODE_EXTRA_CA_CERTS only when a process starts, so the test certificate must exist
// and the variable be set here, before vitest forks its workers (they inherit this environment).
const certDir = join(import.meta.dirname, ".cache", "test-certs");
const { certPath } = ensureServerCert(certDir);
process.env.NODE_EXTRA_CA_CERTS = certPath;
process.env.MDE_TEST_CERT_DIR = certDir;

export default defineConfig({
  test: {
    reporters: ["dot"],
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts", "sim/**/*.test.ts"], environment: "node" },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
