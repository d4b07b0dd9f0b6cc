import { describe, expect, test } from "vitest";
import { secs, rate } from "./format";
import { addDays, csvName, dateIn, presetOf, presetRange, reportsFor, reportUrl, toQuery, zones, type Range } from "./query";

// 23:30 UTC on Sunday 31 May 2026: already Monday 1 June in Berlin, still Sunday in New York.
const NOW = new Date(Date.UTC(2026, 4, 31, 23, 30));

describe("date ranges", () => {
  test("today is read in the chosen zone", () => {
    expect(dateIn("UTC", NOW)).toBe("2026-05-31");
    expect(dateIn("Europe/Berlin", NOW)).toBe("2026-06-01");
    expect(dateIn("America/New_York", NOW)).toBe("2026-05-31");
    // A zone the browser does not know reads as UTC rather than breaking the page.
    expect(dateIn("Mars/Olympus", NOW)).toBe("2026-05-31");
  });

  test("presets count whole local days, today included", () => {
    expect(presetRange("today", "Europe/Berlin", NOW)).toEqual({ from: "2026-06-01", to: "2026-06-01" });
    expect(presetRange("last7", "UTC", NOW)).toEqual({ from: "2026-05-25", to: "2026-05-31" });
    expect(presetRange("last30", "UTC", NOW)).toEqual({ from: "2026-05-02", to: "2026-05-31" });
    expect(presetRange("month", "UTC", NOW)).toEqual({ from: "2026-05-01", to: "2026-05-31" });
    expect(presetRange("month", "Europe/Berlin", NOW)).toEqual({ from: "2026-06-01", to: "2026-06-01" });
  });

  test("calendar arithmetic crosses months and years", () => {
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
  });

  test("a range is recognised as the preset it is, or none", () => {
    const r: Range = { from: "2026-05-25", to: "2026-05-31", tz: "UTC", session: "" };
    expect(presetOf(r, NOW)).toBe("last7");
    expect(presetOf({ ...r, from: "2026-05-24" }, NOW)).toBeNull();
  });
});

describe("the query", () => {
  const r: Range = { from: "2026-05-25", to: "2026-05-31", tz: "Asia/Kolkata", session: "" };

  test("from, to and tz; the session only when one is chosen", () => {
    expect(toQuery(r)).toEqual({ from: "2026-05-25", to: "2026-05-31", tz: "Asia/Kolkata", session: undefined });
    expect(reportUrl("agents", r)).toBe("/api/analytics/agents?from=2026-05-25&to=2026-05-31&tz=Asia%2FKolkata");
    expect(reportUrl("sessions", { ...r, session: "support" })).toBe(
      "/api/analytics/sessions?from=2026-05-25&to=2026-05-31&tz=Asia%2FKolkata&session=support",
    );
  });

  test("the CSV is the same query with format=csv, saved under a name that says what it holds", () => {
    expect(reportUrl("bots", r, true)).toBe("/api/analytics/bots?from=2026-05-25&to=2026-05-31&tz=Asia%2FKolkata&format=csv");
    expect(csvName("agents", r)).toBe("agents-2026-05-25-to-2026-05-31.csv");
    expect(csvName("sessions", { ...r, session: "support" })).toBe("sessions-2026-05-25-to-2026-05-31-support.csv");
  });

  test("the zone list holds the chosen zone and UTC", () => {
    const z = zones("Mars/Olympus");
    expect(z).toContain("Mars/Olympus");
    expect(z).toContain("UTC");
    expect(new Set(z).size).toBe(z.length);
  });
});

describe("who reads which report (docs/permissions.md)", () => {
  test.each([
    ["admin", ["agents", "sessions", "bots", "campaigns"]],
    ["manager", ["agents", "sessions", "bots", "campaigns"]],
    ["agent", ["agents"]],
    ["sales", ["agents"]],
    ["marketing", ["campaigns"]],
  ] as const)("%s", (role, kinds) => {
    expect(reportsFor(role)).toEqual(kinds);
  });
});

describe("figures as people read them", () => {
  test("durations", () => {
    expect(secs(61_200)).toBe("17 h");
    expect(secs(300)).toBe("5 min");
    expect(secs(3_900)).toBe("1 h 5 min");
    expect(secs(42.4)).toBe("42 s");
    expect(secs(0.3)).toBe("0 s");
    expect(secs(null)).toBe("–");
  });

  test("rates", () => {
    expect(rate(0.426)).toBe("43 %");
    expect(rate(1)).toBe("100 %");
    expect(rate(null)).toBe("–");
  });
});
