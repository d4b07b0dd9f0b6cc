import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { useState } from "preact/hooks";
import { afterEach, expect, test } from "vitest";
import { SAMPLE_CONTACT, type PreviewVars } from "./template";
import { TemplateField } from "./TemplateField";

afterEach(cleanup);

const vars: PreviewVars = { contact: SAMPLE_CONTACT, businessName: "Bela Salon", hoursToday: "09:00–17:00" };

function Harness({ initial = "" }: { initial?: string }) {
  const [v, setV] = useState(initial);
  return <TemplateField id="t" label="Response" value={v} onChange={setV} vars={vars} error={null} />;
}

const box = () => screen.getByLabelText("Response") as HTMLTextAreaElement;
const preview = () => screen.getByTestId("t-preview").textContent ?? "";

test("a variable goes in at the caret, replacing the selection, and the caret lands after it", () => {
  render(<Harness initial="Hello , welcome to X" />);
  box().focus();
  box().setSelectionRange(6, 6);
  fireEvent.click(screen.getByRole("button", { name: "{{contact.first_name}}" }));
  expect(box().value).toBe("Hello {{contact.first_name}}, welcome to X");
  const after = 6 + "{{contact.first_name}}".length;
  expect([box().selectionStart, box().selectionEnd]).toEqual([after, after]);
  expect(document.activeElement).toBe(box());

  // A selection is replaced by the variable.
  const x = box().value.indexOf("X");
  box().setSelectionRange(x, x + 1);
  fireEvent.click(screen.getByRole("button", { name: "{{business.name}}" }));
  expect(box().value).toBe("Hello {{contact.first_name}}, welcome to {{business.name}}");
  expect(preview()).toContain("Hello Maria, welcome to Bela Salon");
});

test("the preview re-renders as one types, with the sample contact and today's hours", () => {
  render(<Harness />);
  expect(preview()).toBe("");
  fireEvent.input(box(), { target: { value: "Hi {{contact.first_name}}" } });
  expect(preview()).toContain("Hi Maria");
  fireEvent.input(box(), { target: { value: "Hi {{ contact.name }}, we are open {{business.hours_today}} — call {{contact.phone}}" } });
  expect(preview()).toContain("Hi Maria Silva, we are open 09:00–17:00 — call +447700900123");
  // A missing attribute renders empty, never as the placeholder.
  fireEvent.input(box(), { target: { value: "Plan: {{contact.plan}}." } });
  expect(preview()).toContain("Plan: .");
  expect(preview()).not.toContain("{{");
});

test("what the hub would refuse shows under the preview", () => {
  render(<Harness />);
  fireEvent.input(box(), { target: { value: "Hi {{order.id}}" } });
  expect(preview()).toContain("unknown variable {{order.id}}");
  fireEvent.input(box(), { target: { value: "Hi {{contact.name" } });
  expect(preview()).toContain("unclosed {{ at 3");
});
