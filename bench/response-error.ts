// An answer a scenario did not expect, kept with its status and whether it is Twofold's clear "unavailable" answer.

/** Thrown when Twofold answers with an error status; `unavailable` marks its 503 page or 503 temporarily_unavailable. */
export class ResponseError extends Error {
  constructor(
    readonly status: number,
    readonly unavailable: boolean,
    message: string,
    /** The whole answer, for a caller that looks for a message in it. */
    readonly body = '',
  ) {
    super(message);
    this.name = 'ResponseError';
  }
}

/** Builds the error for an answer with `status` and `body` (HTML or JSON text) from `what`. */
export function responseError(what: string, status: number, body: string): ResponseError {
  // Twofold's outage answers: the error page for browsers, { error: 'temporarily_unavailable' } for API clients.
  const unavailable = status === 503 && (body.includes('Twofold is temporarily unavailable') || /"error"\s*:\s*"temporarily_unavailable"/.test(body));
  return new ResponseError(status, unavailable, `${what} answered ${status}: ${body.replace(/\s+/g, ' ').slice(0, 300)}`, body);
}
