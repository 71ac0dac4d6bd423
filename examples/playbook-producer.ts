/**
 * A playbook-style producer: cancels the actions named on the command line, then waits for their
 * results by reading the finished jobs (no results queue consumed).
 *
 *   npx tsx examples/playbook-producer.ts <machineActionId...>
 *
 * Configuration comes from the environment or .env, as for the CLI (REDIS_URL, AZURE_TENANT_ID...).
 */
import { parseConfig, readEnvironment, withProducer } from "../jobs/index.js";
import { sleep } from "../shared/core/sleep.js";

const config = parseConfig(readEnvironment(process.env, process.cwd()));
const ids = process.argv.slice(2);

await withProducer(config, async (producer) => {
  const enqueued = await producer.enqueue(
    ids.map((machineActionId) => ({
      machineActionId,
      comment: "Cancelled by playbook",
      correlationId: "INC-4711",
    })),
  );
  const jobIds = new Set(enqueued.map((e) => e.jobId));
  console.log(
    `enqueued ${enqueued.filter((e) => e.added).length}, already queued ${enqueued.filter((e) => !e.added).length}`,
  );

  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const mine = (await producer.results()).filter((r) => jobIds.has(r.jobId));
    if (mine.length === jobIds.size) {
      for (const r of mine)
        console.log(`${r.machineActionId}: ${r.outcome}${r.error ? ` (${r.error.code})` : ""}`);
      return;
    }
    await sleep(1_000);
  }
});
