/**
 * Tier (d) of the throughput bench: what a user might write instead of a queue. A plain loop, 50
 * actions at a time, making the same GET and POST per action with axios and a keep-alive agent.
 * No Redis, no budget, no retries, no results: the floor of what the HTTP exchange itself costs.
 */
import https from "node:https";
import axios from "axios";
import { CLIENT, SECRET, serveIpc, TENANT } from "./common.js";

interface Run {
  url: string;
  ids: string[];
  warmup: number;
  concurrency: number;
}

async function run({ url, ids, warmup, concurrency }: Run) {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: CLIENT,
    client_secret: SECRET,
    scope: "https://api.securitycenter.microsoft.com/.default",
  });
  const token = (await axios.post(`${url}/${TENANT}/oauth2/v2.0/token`, form)).data.access_token as string;
  const http = axios.create({
    baseURL: url,
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: concurrency }),
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    validateStatus: () => true,
  });
  let next = 0;
  let done = 0;
  let calls = 0;
  let failures = 0;
  let timedFrom = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const got = await http.get(`/api/machineactions/${id}`);
      calls++;
      if (got.status === 200 && ["Pending", "InProgress"].includes(got.data.status)) {
        const cancelled = await http.post(`/api/machineactions/${id}/cancel`, { Comment: "bench" });
        calls++;
        if (cancelled.status !== 200) failures++;
      } else failures++;
      if (++done === warmup) timedFrom = performance.now();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ended = performance.now();
  return {
    timedJobs: ids.length - warmup,
    timedMs: ended - timedFrom,
    totalMs: ended - started,
    calls,
    failures,
  };
}

serveIpc((m) => (m.op === "run" ? run(m as unknown as Run) : undefined));
process.once("SIGTERM", () => process.exit(0));
process.send?.({ ready: { pid: process.pid } });
