import { createServer } from "node:http";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import express from "express";
import { basicAuth, type DashboardSettings } from "./dashboard-auth.js";
import { type ListeningServer, listen } from "./http-server.js";

export const DASHBOARD_BASE_PATH = "/admin/queues";

/**
 * bull-board on DASHBOARD_PORT, read-only: on-call looks at jobs here; retrying, removing or
 * promoting them stays a deliberate act through the CLI.
 */
export function startDashboard(settings: DashboardSettings, queues: Queue[]): Promise<ListeningServer> {
  const board = new ExpressAdapter();
  board.setBasePath(DASHBOARD_BASE_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: "mde-cancel" } },
  });
  const app = express();
  app.disable("x-powered-by");
  if (settings.credentials) app.use(basicAuth(settings.credentials));
  // bull-board refuses writes on read-only queues itself; refusing every write here keeps it so
  // whatever a future bull-board adds.
  app.use((req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD") return next();
    res.status(405).set("Allow", "GET, HEAD").type("text/plain").send("The dashboard is read-only.\n");
  });
  app.use(DASHBOARD_BASE_PATH, board.getRouter());
  return listen(createServer(app), settings.port, settings.host, "DASHBOARD_PORT", "DASHBOARD_HOST");
}
