// The error codes Twofold shows people; the text for each lives in views/error.pug, looked up by code.

/** Every error a person can meet, with its HTTP status. */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  CSRF_INVALID: 403,
  HTTPS_REQUIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERACTION_EXPIRED: 400,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a code whose text the error page shows. */
export class AppError extends Error {
  readonly status: number;
  readonly expose = true;
  constructor(readonly code: ErrorCode, message?: string) {
    super(message ?? code);
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
  }
}
