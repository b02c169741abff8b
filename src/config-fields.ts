// The kinds of value the environment holds (durations, URLs, numbers, switches, Redis addresses), each a zod field
// that turns the raw string into its value or reports what is wrong with it in words a person can act on.
import { z } from 'zod';
import { parseRedisAddresses } from './config-redis.js';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90", "90s", "15m", "8h" or "1d" into seconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}

function toSeconds(value: string, ctx: z.RefinementCtx, min: number, max: number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; use e.g. 90s, 15m, 8h or 1d` });
    return z.NEVER;
  }
  if (seconds < min || seconds > max) {
    ctx.addIssue({ code: 'custom', message: `must be between ${min}s and ${max}s, got ${seconds}s` });
    return z.NEVER;
  }
  return seconds;
}

/** A duration ("90s", "15m", "8h", "1d") in seconds, from `min` to `max`; `fallback` when unset. */
export const duration = (fallback: string, min: number, max: number) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => toSeconds(value, ctx, min, max));

// Unset (or empty) stays undefined, for a default that depends on another value.
export const optionalDuration = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined || value.trim() === '' ? undefined : toSeconds(value, ctx, min, max)));

/** A URL of one of `protocols` (`what` names it in the message), or undefined when unset. */
export const url = (protocols: string[], what: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      try {
        const parsed = new URL(value);
        if (!protocols.includes(parsed.protocol)) throw new Error();
        return value;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a ${what} URL (${protocols.join(' or ')}//...)` });
        return z.NEVER;
      }
    });

/** A whole number from `min` to `max`; `fallback` when unset. */
export const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const number = Number(value);
      if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return number;
    });

// A Redis URL whose path, if any, is a database number (redis://host:6379/2).
export const redisUrl = url(['redis:', 'rediss:'], 'redis').superRefine((value, ctx) => {
  if (value !== undefined && !/^\/?\d*$/.test(new URL(value).pathname)) {
    ctx.addIssue({ code: 'custom', message: 'the path must be a database number, e.g. redis://redis.internal:6379/0' });
  }
});

/** A comma-separated list of host:port (port `defaultPort` when left out), or undefined when unset. */
export const redisAddresses = (defaultPort: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const parsed = parseRedisAddresses(value, defaultPort);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    });

/** Text, or undefined when unset or blank. */
export const optionalText = () => z.string().optional().transform((value) => (value?.trim() ? value : undefined));

/** true/false (also 1/0, yes/no, on/off); `fallback` when unset. */
export const boolean = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      const v = value.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${value}"` });
      return z.NEVER;
    });
