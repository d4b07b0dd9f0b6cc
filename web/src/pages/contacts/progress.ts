// An import's progress as the wizard shows it. Two sources feed it: `contact_import.progress`
// frames over the websocket (the counts after each applied chunk) and `GET
// /api/contacts/imports/{id}` (polled while running, and once at the end for the row errors).
// They may arrive out of order, so counts only move forward and a finished status stays.

import type { ImportProgress, ImportStatus } from "./types";

export type Counts = Pick<ImportStatus, "status" | "rows" | "created" | "updated" | "skipped" | "failed">;

const COUNTS = ["rows", "created", "updated", "skipped", "failed"] as const;

/** The newer of what is known and what arrived: each count the larger, a finished status kept. */
export function mergeProgress<T extends Counts>(known: T, came: ImportProgress | ImportStatus): T {
  const out = { ...known, ...("errors" in came ? came : {}) } as T;
  for (const k of COUNTS) out[k] = Math.max(known[k], came[k]);
  out.status = known.status !== "running" ? known.status : came.status;
  return out;
}

/** The rows applied one way or another. */
export const done = (c: Counts) => c.created + c.updated + c.skipped + c.failed;

/**
 * 0 to 1 for the progress bar: rows handled out of the data rows the file holds (the
 * wizard counted them before the upload); 1 once the import finished.
 */
export function fraction(c: Counts, total: number): number {
  if (c.status !== "running") return 1;
  if (total <= 0) return 0;
  return Math.min(1, done(c) / total);
}
