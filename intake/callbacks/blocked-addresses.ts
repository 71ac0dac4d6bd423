import { BlockList } from "node:net";

/**
 * Addresses a callback may not reach unless its host is listed in INTAKE_CALLBACK_HOSTS: the
 * machine itself, its networks and the cloud's metadata service (169.254.169.254). Node's
 * BlockList also matches the IPv4-mapped IPv6 form of every IPv4 range (::ffff:10.0.0.1).
 */
const RANGES: readonly (readonly [label: string, cidrs: readonly string[]])[] = [
  ["unspecified", ["0.0.0.0/8", "::/128"]],
  ["loopback", ["127.0.0.0/8", "::1/128"]],
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]],
  ["carrier-grade NAT", ["100.64.0.0/10"]],
  ["link-local", ["169.254.0.0/16", "fe80::/10"]],
  ["multicast", ["224.0.0.0/4", "ff00::/8"]],
  // IETF protocol assignments, benchmarking, the old class E and broadcast, IPv4-compatible IPv6.
  ["reserved", ["192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4", "::/96"]],
];

const LISTS = RANGES.map(([label, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = "", prefix] = cidr.split("/");
    list.addSubnet(network, Number(prefix), network.includes(":") ? "ipv6" : "ipv4");
  }
  return { label, list };
});

/** What kind of refused address this is ("private", "loopback"...), or undefined for a public one. */
export function blockedRange(address: string, family: 4 | 6): string | undefined {
  // A zone index (fe80::1%eth0) means nothing to BlockList, which would then match no range.
  const bare = address.replace(/%.*$/, "");
  const type = family === 6 ? "ipv6" : "ipv4";
  return LISTS.find(({ list }) => list.check(bare, type))?.label;
}
