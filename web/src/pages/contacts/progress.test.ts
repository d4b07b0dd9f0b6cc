import { describe, expect, test } from "vitest";
import { done, fraction, mergeProgress } from "./progress";
import type { ImportStatus } from "./types";

const status = (over: Partial<ImportStatus> = {}): ImportStatus => ({
  id: 7,
  session_id: 1,
  on_duplicate: "skip",
  status: "running",
  rows: 0,
  created: 0,
  updated: 0,
  skipped: 0,
  failed: 0,
  errors: [],
  errors_total: 0,
  failure: null,
  ...over,
});

describe("import progress", () => {
  test("counts only move forward whichever source answers last", () => {
    const known = status({ rows: 500, created: 400, skipped: 50, failed: 50 });
    // A poll answered after a newer websocket frame: nothing goes back.
    const late = mergeProgress(known, status({ rows: 300, created: 250, skipped: 30, failed: 20 }));
    expect(late).toMatchObject({ rows: 500, created: 400, skipped: 50, failed: 50 });
    const frame = { id: 7, session_id: 1, status: "running" as const, rows: 800, created: 600, updated: 0, skipped: 100, failed: 100 };
    expect(mergeProgress(known, frame)).toMatchObject({ rows: 800, created: 600, skipped: 100, failed: 100 });
  });

  test("a finished status stays finished, and the final read brings the row errors", () => {
    const finished = mergeProgress(status(), { id: 7, session_id: 1, status: "completed", rows: 3, created: 2, updated: 0, skipped: 0, failed: 1 });
    expect(finished.status).toBe("completed");
    expect(mergeProgress(finished, status({ status: "running" })).status).toBe("completed");
    const withErrors = mergeProgress(finished, status({ status: "completed", rows: 3, created: 2, failed: 1, errors: [{ line: 3, field: "phone", reason: "not a number" }], errors_total: 1 }));
    expect(withErrors.errors).toEqual([{ line: 3, field: "phone", reason: "not a number" }]);
  });

  test("the bar: rows handled out of the file's rows, full once finished", () => {
    expect(fraction(status({ created: 25, skipped: 15, failed: 10 }), 200)).toBe(0.25);
    expect(done(status({ created: 1, updated: 2, skipped: 3, failed: 4 }))).toBe(10);
    expect(fraction(status({ created: 300 }), 200)).toBe(1);
    expect(fraction(status(), 0)).toBe(0);
    expect(fraction(status({ status: "failed" }), 200)).toBe(1);
  });
});
