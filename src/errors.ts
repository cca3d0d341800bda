/**
 * Typed error codes. Every error a user or operator can meet carries one of these codes, so the
 * global sinks (CLI exit path, Bolt's app.error, the job processors) can branch on the code and
 * say what to fix instead of printing a stack trace.
 */
export const ErrorCode = {
  ChecklistSyntax: 'checklist_syntax',
  ChecklistInvalid: 'checklist_invalid',
  ChecklistNotFound: 'checklist_not_found',
  UnknownVariable: 'unknown_variable',
  SecretMissing: 'secret_missing',
  Usage: 'usage',
  Config: 'config',
  AddressRefused: 'address_refused',
  QueueUnavailable: 'queue_unavailable',
  StoreUnavailable: 'store_unavailable',
  NotAllowed: 'not_allowed',
  NotFound: 'not_found',
  Conflict: 'conflict',
  ImportFailed: 'import_failed',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DeployCheckError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'DeployCheckError';
  }
}

/** A position in a source file, 1-based, as editors show it. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface ChecklistIssue extends SourcePos {
  message: string;
}

/** Raised for YAML syntax or schema problems; carries every issue found, each with file:line:col. */
export class ChecklistError extends DeployCheckError {
  readonly issues: ChecklistIssue[];
  constructor(code: ErrorCode, issues: ChecklistIssue[]) {
    super(code, issues.map(formatIssue).join('\n'));
    this.issues = issues;
    this.name = 'ChecklistError';
  }
}

export function formatIssue(issue: ChecklistIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}

export function isCoded(err: unknown, code?: ErrorCode): err is DeployCheckError {
  return err instanceof DeployCheckError && (code === undefined || err.code === code);
}

/** A short, single-line description of any thrown value, for results and logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause : undefined;
    const code = (err as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
    const base = err.message || err.name;
    const causeMsg = cause?.message && !base.includes(cause.message) ? `: ${cause.message}` : '';
    // System codes (ECONNRESET…) help; our own codes are for programs, not for people.
    return typeof code === 'string' && /^E[A-Z_]+$/.test(code) && !base.includes(code)
      ? `${base}${causeMsg} (${code})`
      : `${base}${causeMsg}`;
  }
  return String(err);
}
