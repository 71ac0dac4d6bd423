/**
 * A receiver of mde-cancel's callbacks: verifies each delivery with the `standardwebhooks`
 * package, as any Standard Webhooks receiver would (the id, timestamp and body are signed with
 * INTAKE_WEBHOOK_SECRET), acts once per `webhook-id` (delivery is at least once) and answers 204.
 * A wrong signature or a stale timestamp (over 5 minutes) gets 401.
 *
 * It speaks plain HTTP on 127.0.0.1: in production put it behind TLS (callbacks go to https://
 * only); to try it locally, list it for `serve` with INTAKE_CALLBACK_HOSTS=127.0.0.1:8099 and
 * pass callbackUrl http://127.0.0.1:8099/mde.
 *
 *   WEBHOOK_SECRET=whsec_... npx tsx examples/webhook-receiver.ts 8099
 */
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.WEBHOOK_SECRET ?? "");
const port = Number(process.argv[2] ?? 8099);
// A real service keeps the ids it handled in its database, for as long as retries may come (a day or more).
const handled = new Set<string>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    // Verify the exact bytes received: never parse and re-serialize the JSON first.
    const body = Buffer.concat(chunks).toString("utf8");
    let event: { type: string; timestamp: string; data: Record<string, unknown> };
    try {
      event = webhook.verify(body, req.headers as Record<string, string>) as typeof event;
    } catch (err) {
      console.error(`refused a delivery: ${(err as Error).message}`);
      res.writeHead(401).end();
      return;
    }
    const id = String(req.headers["webhook-id"]);
    if (!handled.has(id)) {
      handled.add(id);
      const { type, data } = event;
      const what =
        type === "cancel.finished"
          ? `${data.machineActionId}: ${data.outcome} (job ${data.jobId})`
          : `campaign ${data.id}: ${data.done}/${data.total} done, ${JSON.stringify(data.counts)}`;
      console.log(`${event.timestamp} ${type} ${what}`);
    }
    res.writeHead(204).end();
  });
});
server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}/`));
process.once("SIGINT", () => server.close());
process.once("SIGTERM", () => server.close());
