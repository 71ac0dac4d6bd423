/**
 * What this project calls loopback, everywhere (http:// API hosts, the dashboard without a
 * password, callback targets): 127.0.0.0/8, ::1 and `localhost`, with or without IPv6 brackets.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
