// Polls /readyz through a faults run, to tell when Twofold itself saw a store go and come back.

export interface ReadinessSample {
  /** performance.now() when the request was sent and when its answer (or failure) came. */
  start: number;
  end: number;
  /** The HTTP status, or 0 when there was no answer. */
  status: number;
  checks: Record<string, string>;
}

export interface ReadinessWatch {
  readonly samples: ReadinessSample[];
  stop(): Promise<void>;
}

/** Asks `${issuer}/readyz` every `everyMs` until stop(); each request is bounded by `timeoutMs`. */
export function watchReadiness(issuer: string, options: { everyMs: number; timeoutMs: number }): ReadinessWatch {
  const samples: ReadinessSample[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const start = performance.now();
      try {
        const response = await fetch(`${issuer}/readyz`, { signal: AbortSignal.timeout(options.timeoutMs) });
        const body = (await response.json().catch(() => ({}))) as { checks?: Record<string, string> };
        samples.push({ start, end: performance.now(), status: response.status, checks: body.checks ?? {} });
      } catch {
        samples.push({ start, end: performance.now(), status: 0, checks: {} });
      }
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  })();
  return {
    samples,
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
