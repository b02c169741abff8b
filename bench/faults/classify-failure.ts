// Sorts a failed login into Twofold's clear 503 and everything else (another status, a reset, a hang, a wrong answer).
import { ResponseError } from '../response-error.js';

/** `unavailable` is the expected answer during an outage; every other kind is a fault of its own. */
export type FailureKind = 'unavailable' | 'status' | 'connection' | 'hang' | 'wrong-answer';

export interface Failure {
  kind: FailureKind;
  /** Short and countable, e.g. "503 temporarily unavailable", "HTTP 500", "ECONNRESET", "no answer within 10 s". */
  label: string;
  /** The error message, for the first few samples. */
  detail: string;
}

/** Classifies what a login attempt threw; `hangMs` is the per-request bound the attempt ran with. */
export function classifyFailure(err: unknown, hangMs: number): Failure {
  const detail = err instanceof Error ? err.message.slice(0, 300) : String(err);
  if (err instanceof ResponseError) {
    if (err.unavailable) return { kind: 'unavailable', label: '503 temporarily unavailable', detail };
    return { kind: 'status', label: err.status === 503 ? 'HTTP 503 without the unavailable answer' : `HTTP ${err.status}`, detail };
  }
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'hang', label: `no answer within ${hangMs / 1000} s`, detail };
  // fetch reports a broken connection as TypeError('fetch failed') with the socket error as its cause.
  if (err instanceof TypeError && err.message === 'fetch failed') {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    return { kind: 'connection', label: cause?.code ?? cause?.message ?? 'connection failed', detail: `${detail}: ${cause?.message ?? ''}` };
  }
  const label = detail.replace(/https?:\/\/\S+/g, '<url>').replace(/admin\d+/g, 'adminN').slice(0, 80);
  return { kind: 'wrong-answer', label, detail };
}
