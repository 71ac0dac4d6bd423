/** How every Lua script outside BullMQ is run; the scripts themselves live beside their stores in this room. */

import type { RedisConnection } from "./connection.js";

/** Runs a Lua script with KEYS first, then ARGV, as ioredis's defineCommand lays them out. */
export type LuaScript<R> = (...keysThenArgs: (string | number)[]) => Promise<R>;

/**
 * The one way this project runs Lua: ioredis's defineCommand, which sends EVALSHA and falls back
 * to EVAL when Redis lost the script (restart, failover). Every key a script touches arrives in
 * KEYS, so a hash tag in the prefix keeps them in one Redis Cluster slot. A script over a variable
 * number of keys is defined with `numberOfKeys` null and called with their count first.
 */
export function defineScript<R>(
  redis: RedisConnection,
  name: string,
  numberOfKeys: number | null,
  lua: string,
): LuaScript<R> {
  redis.defineCommand(name, { numberOfKeys: numberOfKeys ?? undefined, lua });
  const command = (redis as unknown as Record<string, LuaScript<R>>)[name] as LuaScript<R>;
  return command.bind(redis);
}
