import { expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { fitsPhone } from "./phone";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

const weekdays = (from: string, to: string) =>
  Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((d) => [d, [[from, to]]]));

test("a member created through the form appears in the list; the hub's 422 is shown on its field", async () => {
  const ana = await stack.member("ana@example.com", "Ana Agent", "agent");
  await stack.api("PATCH", `/api/team-members/${ana.id}`, {
    capacity: 5,
    skills: ["billing", "spanish"],
    working_hours: { time_zone: "Europe/London", weekly: weekdays("09:00", "17:30") },
  });
  const mia = await stack.member("mia@example.com", "Mia Manager", "manager");
  await stack.api("PATCH", `/api/team-members/${mia.id}`, { capacity: 2 });
  await stack.member("mark@example.com", "Marco Marketing", "marketing", []);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1180 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.goto(`${stack.hub}/team`);
  await page.getByTestId("team-row-ana@example.com").waitFor();

  await page.getByRole("button", { name: "New member" }).click();
  const form = page.getByRole("form", { name: "New member" });
  await form.getByLabel("Name").fill("Sofia Sales");
  await form.getByLabel("Email").fill("sofia@example.com");
  await form.getByLabel("Role").selectOption("sales");
  await form.getByLabel("Password").fill("short");
  await form.getByLabel("default").check();
  await form.getByLabel("Capacity").fill("4");
  const refused = page.waitForResponse((r) => r.url().endsWith("/api/team-members") && r.request().method() === "POST");
  await form.getByRole("button", { name: "Create member" }).click();
  expect((await refused).status()).toBe(422);
  const err = form.getByTestId("error-password");
  await expect.poll(() => err.textContent()).toMatch(/at least 10 characters/);
  expect(await form.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
  expect(await page.getByTestId("team-row-sofia@example.com").count()).toBe(0);

  await form.getByLabel("Password").fill("a-better-Passw0rd");
  await form.getByRole("button", { name: "Create member" }).click();
  const row = page.getByTestId("team-row-sofia@example.com");
  await row.waitFor();
  expect(await row.textContent()).toContain("sales");
  expect(await row.textContent()).toContain("default");
  expect(await page.getByRole("form", { name: "New member" }).count()).toBe(0);

  // Sofia signs in elsewhere: her dot turns online here, pushed, not polled.
  const other = await browser.newContext();
  await signIn(other, stack.hub, "sofia@example.com", "a-better-Passw0rd");
  await expect.poll(() => row.locator(".p-online").count()).toBe(1);
  // The picture: the list with the hours grid of a member open for editing.
  await page.getByRole("button", { name: "Edit Ana Agent" }).click();
  const edit = page.getByRole("form", { name: "Edit Ana Agent" });
  expect(await edit.getByLabel("Monday interval 1 to").inputValue()).toBe("17:30");
  await screenshot(page, "team");
  await edit.getByRole("button", { name: "Cancel" }).click();
  expect(await fitsPhone(page)).toBe(true);
  await page.setViewportSize({ width: 1280, height: 1180 });

  // The creation is in the audit log.
  await page.getByRole("tab", { name: "Audit log" }).click();
  await page.getByLabel("Action").fill("member.create");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => page.getByTestId("audit-row").filter({ hasText: "sofia@example.com" }).count()).toBe(1);
  await Promise.all([ctx.close(), other.close()]);
});
