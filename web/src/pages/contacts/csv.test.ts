import { describe, expect, test } from "vitest";
import { guessTarget, IGNORE, mappedCsv, mappingProblems, parseCsv } from "./csv";

describe("import CSV", () => {
  test("records carry the line they start on, through quoted commas, quotes and newlines", () => {
    const text = '\ufeffphone,name\r\n+1,"Ann, ""A"""\r\n\r\n+2,"two\nlines"\n+3,Cy';
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ["phone", "name"] },
      { line: 2, cells: ["+1", 'Ann, "A"'] },
      { line: 4, cells: ["+2", "two\nlines"] },
      { line: 6, cells: ["+3", "Cy"] },
    ]);
  });

  test("columns map by their names; unknown ones are ignored until chosen", () => {
    expect(guessTarget("Phone", [])).toBe("phone");
    expect(guessTarget("Mobile", [])).toBe("phone");
    expect(guessTarget("Lifetime Spend", [])).toBe("lifetime_spend");
    expect(guessTarget("plan", ["plan"])).toBe("attr.plan");
    expect(guessTarget("attr.plan", ["plan"])).toBe("attr.plan");
    expect(guessTarget("plan", [])).toBe(IGNORE);
    expect(guessTarget("Full name", [])).toBe(IGNORE);
  });

  test("a mapping without phone, or with a target twice, is refused before the upload", () => {
    expect(mappingProblems(["name", IGNORE])).toEqual(["Map one column to phone: contacts are found by their number."]);
    expect(mappingProblems(["phone", "name", "name"])).toEqual(["Two columns map to name."]);
    expect(mappingProblems(["phone", IGNORE, IGNORE, "name"])).toEqual([]);
  });

  test("the upload has the mapped header, no ignored column, and each record on its own line", () => {
    const recs = parseCsv('Tel,Who,Junk\n+1,Ann,x\n\n+2,"B\nB",y\n+3,"C,c",z\n');
    const body = mappedCsv(recs, ["phone", "name", IGNORE]);
    expect(body).toBe('phone,name\n+1,Ann\n\n+2,"B\nB"\n+3,"C,c"\n');
    // Line for line, so the hub's row errors name the user's own lines.
    expect(parseCsv(body).map((r) => r.line)).toEqual(recs.map((r) => r.line));
    // A single kept column whose cell is empty stays a record.
    expect(mappedCsv(parseCsv("phone,x\n,1\n+2,2"), ["phone", IGNORE])).toBe('phone\n""\n+2\n');
  });
});
