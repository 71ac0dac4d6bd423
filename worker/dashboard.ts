import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { Logger } from "../shared/core/logger.js";
import { basicAuth, type DashboardSettings } from "./dashboard-auth.js";
import { type ListeningServer, listening, opsApp } from "./http-server.js";

export const DASHBOARD_BASE_PATH = "/admin/queues";

/**
 * bull-board on DASHBOARD_PORT, read-only: on-call looks at jobs here; retrying, removing or
 * promoting them stays a deliberate act through the CLI. bull-board refuses writes on read-only
 * queues itself; refusing every write before it keeps it so whatever a future bull-board adds.
 */
export async function startDashboard(
  settings: DashboardSettings,
  queues: Queue[],
  logger: Logger,
): Promise<ListeningServer> {
  const board = new FastifyAdapter();
  board.setBasePath(DASHBOARD_BASE_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: "mde-cancel" } },
  });
  const app = opsApp(logger, {
    authorize: settings.credentials && basicAuth(settings.credentials),
    refusal: "The dashboard is read-only.\n",
  });
  await app.register(board.registerPlugin(), { prefix: DASHBOARD_BASE_PATH });
  return listening(app, settings.port, settings.host, { port: "DASHBOARD_PORT", host: "DASHBOARD_HOST" });
}
