import { describe, expect, test } from "vitest";
import { changeField, changeOp, clauseOfError, fieldSpecs, fromFilter, newClause, newGroup, toFilter, typedValue, valueKind, type Draft } from "./clauses";
import type { AttributeDef } from "./types";

const attrs: AttributeDef[] = [
  { name: "plan", label: "Plan", type: "choice", choices: ["gold", "silver"] },
  { name: "visits", label: "Visits", type: "number", choices: [] },
  { name: "vip_since", label: "VIP since", type: "date", choices: [] },
];
const specs = fieldSpecs(attrs);
const spec = (f: string) => specs.find((s) => s.field === f)!;

describe("segment clauses", () => {
  test("each field offers the ops the grammar allows it, attributes by their declared type", () => {
    expect(spec("tags").ops).toEqual(["contains", "not_contains", "in", "exists", "not_exists"]);
    expect(spec("attributes.visits").ops).toContain("gt");
    expect(spec("attributes.visits").ops).not.toContain("contains");
    expect(spec("attributes.plan").choices).toEqual(["gold", "silver"]);
    expect(valueKind(spec("last_message_at"), "within_days")).toBe("days");
    expect(valueKind(spec("last_message_at"), "gt")).toBe("time");
    expect(valueKind(spec("tags"), "in")).toBe("list");
    expect(valueKind(spec("email"), "exists")).toBe("none");
  });

  test("another field keeps the op and value when they still fit, and resets them when not", () => {
    const c = { field: "name", op: "contains", value: "ann" };
    expect(changeField(c, spec("email"), specs)).toEqual({ field: "email", op: "contains", value: "ann" });
    // Spend takes no `contains`: its first op, and a text is no number.
    expect(changeField(c, spec("lifetime_spend"), specs)).toEqual({ field: "lifetime_spend", op: "gte", value: "" });
    expect(changeField({ field: "lifetime_spend", op: "gt", value: "10" }, spec("conversation_count"), specs)).toEqual({
      field: "conversation_count",
      op: "gt",
      value: "10",
    });
    expect(changeField(c, spec("opted_out"), specs)).toEqual({ field: "opted_out", op: "eq", value: "true" });
  });

  test("another op keeps the value only while its kind stays", () => {
    const c = { field: "last_message_at", op: "within_days", value: "30" };
    expect(changeOp(c, spec("last_message_at"), "not_within_days").value).toBe("30");
    expect(changeOp(c, spec("last_message_at"), "gt").value).toBe("");
    expect(changeOp({ field: "tags", op: "contains", value: "vip" }, spec("tags"), "exists")).toEqual({ field: "tags", op: "exists", value: "" });
  });

  test("values are typed as the grammar wants them; an empty one leaves the clause incomplete", () => {
    expect(typedValue({ field: "lifetime_spend", op: "gte", value: " 12.5 " }, spec("lifetime_spend"))).toEqual({ value: 12.5 });
    // What is not a number goes as typed: the hub's 422 names the clause.
    expect(typedValue({ field: "lifetime_spend", op: "gte", value: "lots" }, spec("lifetime_spend"))).toEqual({ value: "lots" });
    expect(typedValue({ field: "tags", op: "in", value: "vip, , gold ,x" }, spec("tags"))).toEqual({ value: ["vip", "gold", "x"] });
    expect(typedValue({ field: "opted_out", op: "eq", value: "false" }, spec("opted_out"))).toEqual({ value: false });
    expect(typedValue({ field: "email", op: "exists", value: "" }, spec("email"))).toEqual({});
    expect(typedValue({ field: "email", op: "eq", value: "  " }, spec("email"))).toBeUndefined();
    const t = typedValue({ field: "last_message_at", op: "gt", value: "2026-03-01T10:30" }, spec("last_message_at"));
    expect(new Date(t!.value as string).getTime()).toBe(new Date("2026-03-01T10:30").getTime());
    expect(t!.value).toMatch(/Z$/);
    expect(typedValue({ field: "attributes.vip_since", op: "gt", value: "2026-01-31" }, spec("attributes.vip_since"))).toEqual({ value: "2026-01-31" });
  });

  test("the filter leaves incomplete clauses out and knows which row each of its clauses came from", () => {
    const built = toFilter(
      {
        join: "any",
        clauses: [
          { field: "tags", op: "contains", value: "" },
          { field: "type", op: "eq", value: "lead" },
          { field: "email", op: "not_exists", value: "" },
        ],
      },
      specs,
    );
    expect(built.filter).toEqual({
      any: [
        { field: "type", op: "eq", value: "lead" },
        { field: "email", op: "not_exists" },
      ],
    });
    expect(built.incomplete).toEqual(["0"]);
    expect(built.index).toEqual({ "0": "1", "1": "2" });
    // The hub's `filter.any[1]` is the draft's third row.
    expect(built.index[clauseOfError("filter.any[1]")!]).toBe("2");
    expect(clauseOfError("filter.all[0].value")).toBe("0");
    expect(clauseOfError("filter.all[2].any[1].value")).toBe("2.1");
    expect(clauseOfError("name")).toBeNull();
    expect(clauseOfError(undefined)).toBeNull();
  });

  test("a group inside the top level is a nested filter; its incomplete clauses, or all of them, are left out", () => {
    const draft: Draft = {
      join: "all",
      clauses: [
        { join: "any", clauses: [{ field: "name", op: "contains", value: "" }] },
        { field: "type", op: "eq", value: "lead" },
        {
          join: "any",
          clauses: [
            { field: "tags", op: "contains", value: "vip" },
            { field: "tags", op: "contains", value: "" },
            { field: "lifetime_spend", op: "gte", value: "100" },
          ],
        },
      ],
    };
    const built = toFilter(draft, specs);
    expect(built.filter).toEqual({
      all: [
        { field: "type", op: "eq", value: "lead" },
        {
          any: [
            { field: "tags", op: "contains", value: "vip" },
            { field: "lifetime_spend", op: "gte", value: 100 },
          ],
        },
      ],
    });
    expect(built.incomplete).toEqual(["0.0", "2.1"]);
    // `filter.all[1].any[1]` is the spend clause: the group at 2, its third row.
    expect(built.index[clauseOfError("filter.all[1].any[1]")!]).toBe("2.2");
    expect(built.index["0"]).toBe("1");
    expect(newGroup("all", spec("tags"))).toEqual({ join: "any", clauses: [{ field: "tags", op: "contains", value: "" }] });
    // And back: a saved filter with a group returns as one.
    const back = fromFilter(built.filter, specs)!;
    expect(back.clauses[1]).toEqual({
      join: "any",
      clauses: [
        { field: "tags", op: "contains", value: "vip" },
        { field: "lifetime_spend", op: "gte", value: "100" },
      ],
    });
    expect(toFilter(back, specs).filter).toEqual(built.filter);
  });

  test("a saved flat filter comes back into the builder; one nested deeper than groups does not", () => {
    const f = {
      all: [
        { field: "tags", op: "in", value: ["a", "b"] },
        { field: "lifetime_spend", op: "gt", value: 10 },
        { field: "email", op: "exists" },
      ],
    };
    const d = fromFilter(f, specs)!;
    expect(d).toEqual({
      join: "all",
      clauses: [
        { field: "tags", op: "in", value: "a, b" },
        { field: "lifetime_spend", op: "gt", value: "10" },
        { field: "email", op: "exists", value: "" },
      ],
    });
    expect(toFilter(d, specs).filter).toEqual(f);
    expect(fromFilter({ any: [{ all: [] }] }, specs)).toBeNull();
    expect(fromFilter({ any: [{ all: [{ any: [{ field: "tags", op: "exists" }] }] }] }, specs)).toBeNull();
    expect(newClause(spec("consent"))).toEqual({ field: "consent", op: "eq", value: "opted_in" });
  });
});
