/** The Defender endpoints, each with its own budget per tenant (Microsoft counts "per API"). */
export type Endpoint = "get" | "cancel" | "list";
export const ENDPOINTS: readonly Endpoint[] = ["get", "cancel", "list"];
