import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * The TCP ports this process listens on (IPv4 and IPv6), read from Linux's /proc: what the process
 * really opened, whatever its own bookkeeping says.
 */
export function listeningPorts(): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith("socket:[")) inodes.add(target.slice(8, -1));
    } catch {
      // The descriptor closed while being read (readdir's own, for one).
    }
  }
  const ports = new Set<number>();
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    // Columns: sl local_address rem_address st ... inode; state 0A is LISTEN.
    for (const line of readFileSync(table, "utf8").trim().split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9] as string))
        ports.add(Number.parseInt((cols[1] as string).split(":")[1] as string, 16));
    }
  }
  return ports;
}
