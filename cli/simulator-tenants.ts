import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { errorMessage, OperationalError } from "../shared/core/errors.js";
import type { Simulator } from "../sim/server.js";

/** An MDE_TENANTS_FILE as the contract shapes it (tenant-schema.ts), for the simulator's tenants. */
export interface SimulatorTenantsFile {
  defaultTenant: string;
  tenants: { id: string; name: string; authorityHost?: string; apiBaseUrl?: string }[];
}

/**
 * The tenants file that points a deployment at every tenant of this simulator. Tenants of the
 * second authority name its host for both Entra ID and the API, as a GCC High customer names
 * login.microsoftonline.us and api-gov; the others take AZURE_AUTHORITY_HOST and MDE_API_BASE_URL.
 */
export function simulatorTenantsFile(sim: Simulator): SimulatorTenantsFile {
  const second = sim.secondAuthorityHost;
  return {
    defaultTenant: sim.tenants[0]?.name ?? "",
    tenants: sim.tenants.map((t) => ({
      id: t.id,
      name: t.name,
      ...(t.authority === "second" && second ? { authorityHost: second, apiBaseUrl: second } : {}),
    })),
  };
}

export function writeTenantsFile(path: string, file: SimulatorTenantsFile): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, formatTenantsFile(file));
  } catch (err) {
    throw new OperationalError(
      `Could not write the tenants file ${path} (${errorMessage(err)}); pass a writable --tenants-file.`,
    );
  }
}

/** The file as JSON with one tenant a line, so two hundred of them stay readable. */
export function formatTenantsFile(file: SimulatorTenantsFile): string {
  const lines = file.tenants.map((t) => `    ${JSON.stringify(t)}`).join(",\n");
  return `{ "defaultTenant": ${JSON.stringify(file.defaultTenant)},\n  "tenants": [\n${lines}\n  ] }\n`;
}
