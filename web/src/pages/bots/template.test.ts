import { expect, test } from "vitest";
import { hoursToday, renderTemplate, SAMPLE_CONTACT } from "./template";
import type { BusinessHours } from "./types";

const hours: BusinessHours = {
  time_zone: "America/Sao_Paulo",
  weekly: { mon: [["13:00", "17:00"], ["09:00", "12:00"]], sat: [["09:00", "13:00"]] },
  holidays: ["2026-12-28"],
};

test("today's hours are the local day's, sorted, in the bot's zone", () => {
  // 02:00 UTC on Tuesday is still Monday evening in São Paulo.
  expect(hoursToday(hours, new Date("2026-12-22T02:00:00Z"))).toBe("09:00–12:00, 13:00–17:00");
  expect(hoursToday(hours, new Date("2026-12-22T12:00:00Z"))).toBe("closed"); // Tuesday: no hours
  expect(hoursToday(hours, new Date("2026-12-28T12:00:00Z"))).toBe("closed"); // a Monday holiday
  expect(hoursToday(null)).toBe("");
});

test("attributes render as the hub prints them", () => {
  const vars = {
    contact: { ...SAMPLE_CONTACT, attributes: { plan: "gold", visits: 3, vip: true, none: null } },
    businessName: null,
    hoursToday: "",
  };
  expect(renderTemplate("{{contact.attributes.plan}} {{contact.visits}} {{contact.vip}} [{{contact.none}}] [{{business.name}}]", vars)).toEqual({
    text: "gold 3 true [] []",
    error: null,
  });
  expect(renderTemplate("{{contact.attributes}}", vars).error).toBe("unknown variable {{contact.attributes}}");
});
