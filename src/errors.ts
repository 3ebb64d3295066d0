// One error type with a stable code; the web layer maps codes to HTTP status here (STYLE 9).
export const ERROR_STATUS = {
  validation: 400,
  bad_request: 400,
  unauthenticated: 401,
  csrf: 403,
  forbidden: 403,
  not_found: 404,
  /** A known API path called with a method it does not take (the Allow header lists those it does). */
  method_not_allowed: 405,
  conflict: 409,
  wrong_state: 409,
  rule: 409,
  too_large: 413,
  unsupported_media_type: 415,
  /** An Idempotency-Key sent again with a different request. */
  key_reused: 422,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field name → message, for forms and API bodies. */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details: { fields?: FieldErrors; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function validationError(fields: FieldErrors): AppError {
  return new AppError("validation", "Please correct the errors below.", { fields });
}

export function notFound(what: string): AppError {
  return new AppError("not_found", `${what} not found.`);
}
