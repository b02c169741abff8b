// Structured JSON logging; secrets are redacted by path so a stray field never leaks them.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

const REDACTED_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'client_secret', '*.client_secret', 'clientSecret', '*.clientSecret',
  'code', '*.code', 'token', '*.token', 'access_token', 'refresh_token', 'id_token', '*.access_token', '*.refresh_token',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
];

/** Creates the process logger (JSON lines on stdout). */
export function createLogger(level: LogLevel, name = 'twofold'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
