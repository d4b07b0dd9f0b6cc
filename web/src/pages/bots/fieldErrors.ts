// The hub names the field a 422 is about at the start of its message
// (`business_hours.holidays[0]: not a date YYYY-MM-DD`); the forms show it there.

import { ApiError } from "../../api/http";

export interface FieldError {
  /** The field's path as the hub names it, or null when the message names none. */
  path: string | null;
  message: string;
}

const NAMED = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[\d+\])*): ([\s\S]+)$/;

export function fieldError(e: unknown): FieldError {
  if (e instanceof ApiError) {
    // A 409 names its field too (`sessions[0]: session "default" is already served by bot 3`).
    const m = e.status === 422 || e.status === 409 ? NAMED.exec(e.message) : null;
    if (m) return { path: m[1], message: m[2] };
    return { path: null, message: e.message };
  }
  return { path: null, message: e instanceof Error ? e.message : String(e) };
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
