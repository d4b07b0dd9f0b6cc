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

test("fallbacks stand in for blank values and are read as the hub reads them", () => {
  const none = { contact: { name: null, phone: "  ", attributes: {} }, businessName: null, hoursToday: "" };
  const ana = { contact: { ...SAMPLE_CONTACT, name: "Ana Souza" }, businessName: "Bela", hoursToday: "" };
  const t = `Hi {{contact.first_name | "there"}}, {{ business.name|'we'}} / {{contact.phone|"no phone"}}`;
  expect(renderTemplate(t, none)).toEqual({ text: "Hi there, we / no phone", error: null });
  expect(renderTemplate(t, ana).text).toBe("Hi Ana, Bela / +447700900123");
  expect(renderTemplate(`{{contact.name | "a } b }} | 'c'"}}!`, none).text).toBe("a } b }} | 'c'!");
  expect(renderTemplate(`<{{contact.name | ""}}>`, none).text).toBe("<>");
  expect(renderTemplate(`Hi {{contact.name | "there}}`, none).error).toBe('unclosed " at 20');
  expect(renderTemplate(`{{contact.name | there}}`, none).error).toBe(`the fallback of {{contact.name}} must be quoted ("…" or '…')`);
  expect(renderTemplate(`{{contact.name | "a" "b"}}`, none).error).toBe("expected }} at 21");
  expect(renderTemplate(`{{ foo | "x" }}`, none).error).toBe("unknown variable {{foo}}");
  expect(renderTemplate(`{{ a {{contact.name | "x"}}`, none).error).toBe("unclosed {{ at 0");
});

test("an unknown name is named first, as the hub does", () => {
  const none = { contact: { name: null, phone: null, attributes: {} }, businessName: null, hoursToday: "" };
  expect(renderTemplate(`{{foo | there}}`, none).error).toBe("unknown variable {{foo}}");
});
