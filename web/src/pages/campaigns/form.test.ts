import { describe, expect, test } from "vitest";
import { audienceOf, draftOf, fieldOfError, newDraft, parseContactIds, sessionsOf, toBody, toPatch, utcToZoned, validate, zonedToUtc, type Draft } from "./form";
import { campaign } from "./testkit";

const good = (d: Partial<Draft> = {}): Draft => ({
  ...newDraft("default", "Europe/London"),
  name: "Black Friday",
  segmentId: 3,
  template: 'Hi {{contact.first_name | "there"}}',
  ...d,
});
const NOW = new Date("2026-12-07T12:00:00Z");

describe("the campaign form", () => {
  test("contact ids are read from commas, blanks and lines, once each", () => {
    expect(parseContactIds("1, 2\n3 2;4")).toEqual({ ids: [1, 2, 3, 4], bad: [] });
    expect(parseContactIds("1 x -2 0 3.5")).toEqual({ ids: [1], bad: ["x", "-2", "0", "3.5"] });
    expect(parseContactIds("  ")).toEqual({ ids: [], bad: [] });
  });

  test("a wall time in a zone becomes the UTC instant, daylight saving included", () => {
    expect(zonedToUtc("2026-12-08T09:00", "Europe/London")).toBe("2026-12-08T09:00:00Z");
    expect(zonedToUtc("2026-07-08T09:00", "Europe/London")).toBe("2026-07-08T08:00:00Z");
    expect(zonedToUtc("2026-12-08T09:00", "America/Sao_Paulo")).toBe("2026-12-08T12:00:00Z");
    expect(zonedToUtc("2026-12-08T09:00", "Asia/Kolkata")).toBe("2026-12-08T03:30:00Z");
    // London skips 01:00–02:00 on 29 March 2026: read an hour later.
    expect(zonedToUtc("2026-03-29T01:30", "Europe/London")).toBe("2026-03-29T01:30:00Z");
    expect(zonedToUtc("2026-02-30T09:00", "UTC")).toBeNull();
    expect(zonedToUtc("tomorrow", "UTC")).toBeNull();
    expect(zonedToUtc("2026-12-08T09:00", "Mars/Olympus")).toBeNull();
  });

  test("a good draft has no errors and becomes the API's body", () => {
    expect(validate(good(), NOW)).toEqual({});
    expect(toBody(good())).toEqual({
      name: "Black Friday",
      session: "default",
      segment_id: 3,
      template: 'Hi {{contact.first_name | "there"}}',
      time_zone: "Europe/London",
      rate_per_minute: 12,
      jitter: 0.5,
      quiet_hours: null,
      frequency_cap_hours: null,
    });
    const scheduled = good({
      audience: "ids",
      contactIds: "7 8",
      when: "recurring",
      recurrence: "weekly",
      startAt: "2026-12-08T09:00",
      quiet: true,
      cap: "24",
      rate: "30",
      jitter: "0",
    });
    expect(validate(scheduled, NOW)).toEqual({});
    expect(toBody(scheduled)).toMatchObject({
      contact_ids: [7, 8],
      start_at: "2026-12-08T09:00:00Z",
      recurrence: "weekly",
      quiet_hours: { start: "21:00", end: "08:00" },
      frequency_cap_hours: 24,
      rate_per_minute: 30,
      jitter: 0,
    });
    expect(toBody(scheduled)).not.toHaveProperty("segment_id");
  });

  test("each mistake is named by the hub's field", () => {
    const e = validate(
      good({
        name: " ",
        session: "",
        segmentId: null,
        template: "",
        when: "at",
        startAt: "2026-12-01T09:00",
        rate: "601",
        jitter: "1",
        quiet: true,
        quietStart: "25:00",
        cap: "1.5",
      }),
      NOW,
    );
    expect(Object.keys(e).sort()).toEqual(
      ["frequency_cap_hours", "jitter", "name", "quiet_hours", "rate_per_minute", "segment_id", "session", "start_at", "template"].sort(),
    );
    expect(e.start_at).toBe("in the past");
    expect(validate(good({ audience: "ids", contactIds: "1 two" }), NOW).contact_ids).toBe("not contact ids: two");
    expect(validate(good({ audience: "ids", contactIds: "" }), NOW).contact_ids).toBe("paste at least one contact id");
    expect(validate(good({ when: "at", startAt: "" }), NOW).start_at).toBe("choose when to start");
    expect(validate(good({ rate: "0" }), NOW).rate_per_minute).toBeDefined();
    expect(validate(good({ quiet: true, quietStart: "08:00", quietEnd: "08:00" }), NOW).quiet_hours).toMatch(/same/);
  });

  test("the audience is asked for only once it is complete; hub fields map to inputs", () => {
    expect(audienceOf(good({ segmentId: null }))).toBeNull();
    expect(audienceOf(good({ audience: "ids", contactIds: "4, x" }))).toBeNull();
    expect(audienceOf(good({ audience: "ids", contactIds: "4, 5" }))).toEqual({ contact_ids: [4, 5] });
    expect(fieldOfError("quiet_hours.start")).toBe("quiet_hours");
    expect(fieldOfError("contact_ids[3]")).toBe("contact_ids");
    expect(fieldOfError("time_zone")).toBe("start_at");
    expect(fieldOfError(undefined)).toBeNull();
  });

  test("an existing campaign reads back into the form, and its patch keeps the ids it was not given again", () => {
    expect(utcToZoned("2026-07-08T08:00:00Z", "Europe/London")).toBe("2026-07-08T09:00");
    expect(utcToZoned("2026-12-08T12:00:00Z", "America/Sao_Paulo")).toBe("2026-12-08T09:00");
    const c = campaign({
      audience: { contact_ids: 3 },
      start_at: "2026-12-08T12:00:00Z",
      time_zone: "America/Sao_Paulo",
      recurrence: "weekly",
      quiet_hours: { start: "22:00", end: "07:00" },
      frequency_cap_hours: 48,
      rate_per_minute: 30,
      jitter: 0.2,
    });
    const d = draftOf(c);
    expect(d).toMatchObject({ audience: "ids", keptIds: 3, contactIds: "", when: "recurring", startAt: "2026-12-08T09:00", recurrence: "weekly", quiet: true, quietStart: "22:00", cap: "48", rate: "30", jitter: "0.2" });
    expect(validate(d, NOW)).toEqual({});
    const body = toPatch(d);
    expect(body).not.toHaveProperty("contact_ids");
    expect(body).toMatchObject({ start_at: "2026-12-08T12:00:00Z", recurrence: "weekly", frequency_cap_hours: 48 });
    expect(toPatch({ ...d, contactIds: "9" })).toMatchObject({ contact_ids: [9] });
    expect(toPatch({ ...draftOf(campaign()), when: "now" })).toMatchObject({ segment_id: 3, start_at: null, recurrence: null });
  });
});

describe("sessions", () => {
  test("one is `session`, several are `sessions`, the first first; a refusal of one lands on the picker", () => {
    expect(sessionsOf({ session: "a", alsoSessions: [] })).toEqual({ session: "a" });
    expect(sessionsOf({ session: "a", alsoSessions: ["c", "a", "b"] })).toEqual({ sessions: ["a", "c", "b"] });
    expect(draftOf(campaign({ session: "b", sessions: ["b", "a"] }))).toMatchObject({ session: "b", alsoSessions: ["a"] });
    expect(draftOf(campaign({ session: "b" }))).toMatchObject({ session: "b", alsoSessions: [] });
    expect(fieldOfError("sessions[1]")).toBe("session");
  });
});
