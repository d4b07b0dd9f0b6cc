import { expect, test } from "vitest";
import { duration, initials, phoneOf } from "./format";

test("initials take the first letters of the first two words that start with a letter", () => {
  expect(initials("Maria Silva")).toBe("MS");
  expect(initials("Customer 04")).toBe("C");
  expect(initials("élodie durand")).toBe("ÉD");
  expect(initials("+44 7700")).toBe("+");
  expect(initials("  ")).toBe("?");
});

test("durations and phone numbers read as people write them", () => {
  expect(duration(42)).toBe("42 s");
  expect(duration(3 * 3600 + 5 * 60)).toBe("3 h 5 min");
  expect(phoneOf("447700900123@c.us")).toBe("+447700900123");
  expect(phoneOf("120363@g.us")).toBe("120363@g.us");
});
