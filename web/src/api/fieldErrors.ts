// A 422 (or a 409 about one value) carries the path of its field in `error.field`
// (`business_hours.holidays[0]`); the forms show the reason there.

import { ApiError } from "./http";

export interface FieldError {
  /** The field's path as the hub names it, or null when the error is about no one field. */
  path: string | null;
  message: string;
}

export function fieldError(e: unknown): FieldError {
  if (e instanceof ApiError) {
    if (e.field) return { path: e.field, message: reasonOf(e.message, e.field) };
    return { path: null, message: e.message };
  }
  return { path: null, message: e instanceof Error ? e.message : String(e) };
}

/** The message reads `path: reason`; beside its input the path would only repeat. */
export function reasonOf(message: string, path: string): string {
  const prefix = `${path}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** The message for `path` when the error names it. */
export function errorAt(err: FieldError | null, path: string): string | null {
  return err && err.path === path ? err.message : null;
}

/** One line for an error that has no field to sit next to. */
export function formatErr(e: unknown): string {
  const f = fieldError(e);
  return f.path ? `${f.path}: ${f.message}` : f.message;
}
