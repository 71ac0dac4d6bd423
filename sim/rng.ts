/** A source of uniform numbers in [0, 1). Math.random fits; seeded ones make runs reproducible. */
export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make a simulated tenant look the same on every run. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

/** Picks by weight; `table` pairs each item with a relative weight. */
export function pickWeighted<T>(rng: Rng, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((sum, [, w]) => sum + w, 0);
  let roll = rng() * total;
  for (const [item, weight] of table) {
    roll -= weight;
    if (roll < 0) return item;
  }
  const last = table.at(-1);
  if (!last) throw new Error("pickWeighted from an empty table");
  return last[0];
}

export function randomHex(rng: Rng, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += Math.floor(rng() * 16).toString(16);
  return out;
}

/** A lower-case version-4 GUID drawn from `rng`, so seeded tenants get the same ids every run. */
export function randomGuid(rng: Rng): string {
  const h = randomHex(rng, 32).split("");
  h[12] = "4";
  h[16] = "89ab"[Math.floor(rng() * 4)] ?? "8";
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
