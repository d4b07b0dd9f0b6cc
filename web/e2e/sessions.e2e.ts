import { expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { fitsPhone } from "./phone";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

async function faults(body: unknown) {
  const res = await fetch(`${stack.sim}/sim/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sim faults → ${res.status}: ${await res.text()}`);
}

test("a session held at SCAN_QR_CODE shows its QR until WhatsApp pairs it, then reads WORKING", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.goto(`${stack.hub}/sessions`);
  const main = page.getByTestId("session-default");
  await expect.poll(() => main.getByTestId("session-status").textContent()).toBe("WORKING");
  expect(await main.getByRole("img").count()).toBe(0);

  // The simulator keeps new sessions waiting for a scan; register one through the form.
  await faults({ boot_hold: "SCAN_QR_CODE" });
  await page.getByLabel("New session").fill("sales");
  await page.getByRole("button", { name: "Register" }).click();
  const sales = page.getByTestId("session-sales");
  await expect.poll(() => sales.getByTestId("session-status").textContent(), { timeout: 15_000 }).toBe("SCAN_QR_CODE");
  const qr = sales.getByRole("img", { name: /QR code/ });
  await qr.waitFor();
  expect(await qr.getAttribute("src")).toMatch(/^data:image\/png;base64,iVBOR/);
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await screenshot(page, "sessions");
  expect(await fitsPhone(page)).toBe(true);
  await page.setViewportSize({ width: 1280, height: 860 });

  // The phone scans: the sim lets the session go on to WORKING, and the code goes away; the
  // paired account comes with the status event, so the session is not read again.
  const reread: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/sessions/sales") reread.push(r.url());
  });
  await faults({ boot_hold: null });
  await expect.poll(() => sales.getByTestId("session-status").textContent(), { timeout: 15_000 }).toBe("WORKING");
  await expect.poll(() => sales.getByRole("img").count()).toBe(0);
  const paired = await stack.api<{ me_name: string | null }>("GET", "/api/sessions/sales");
  expect(paired.me_name).toBeTruthy();
  await expect.poll(() => sales.textContent()).toContain(paired.me_name!);
  expect(reread).toEqual([]);
  await ctx.close();
});

test("an admin saves CSAT, the SLA alert and business hours in one PATCH; another admin's page shows them; a refusal sits at its field", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1500 } });
  const other = await browser.newContext();
  const [page, watcher] = await Promise.all([
    signIn(ctx, stack.hub, ADMIN.email, ADMIN.password),
    signIn(other, stack.hub, ADMIN.email, ADMIN.password),
  ]);
  for (const p of [page, watcher]) {
    await p.goto(`${stack.hub}/sessions`);
    await p.getByTestId("connection").and(p.locator("[data-state=live]")).waitFor();
    await p.getByTestId("session-default").waitFor();
  }
  const card = page.getByTestId("session-default");
  const save = card.getByRole("button", { name: "Save settings" });

  // The hub's own 422 (30 days at most) lands beside the minutes.
  const sla = card.getByLabel(/Alert supervisors after/);
  await sla.fill("50000");
  await save.click();
  await expect.poll(() => card.getByTestId("error-sla_wait_seconds").textContent()).toMatch(/expected 1 to 2592000 seconds/);
  expect(await sla.getAttribute("aria-invalid")).toBe("true");

  await sla.fill("30");
  await card.getByLabel(/Ask the customer to rate/).check();
  await card.getByLabel("Rating question").fill("How did we do? 1 to 5, please.");
  await card.getByLabel(/Set business hours/).check();
  await card.getByLabel("Search time zones").fill("London");
  await expect.poll(() => card.getByLabel("Time zone", { exact: true }).inputValue()).toBe("Europe/London");
  await card.getByRole("button", { name: "Add hours on Saturday" }).click();
  await card.getByLabel("Saturday interval 1 from").fill("10:00");
  await card.getByLabel("Saturday interval 1 to").fill("14:00");
  const sent = page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith("/api/sessions/default"));
  await save.click();
  const body = (await sent).postDataJSON();
  expect(Object.keys(body).sort()).toEqual(["business_hours", "csat_enabled", "csat_question", "sla_wait_seconds"]);
  await expect.poll(() => card.getByText("Saved", { exact: true }).count()).toBe(1);
  expect(await card.getByTestId("error-sla_wait_seconds").count()).toBe(0);

  const weekday = [["09:00", "17:00"]];
  const saved = await stack.api("GET", "/api/sessions/default");
  expect(saved).toMatchObject({
    csat_enabled: true,
    csat_question: "How did we do? 1 to 5, please.",
    sla_wait_seconds: 1800,
    business_hours: {
      time_zone: "Europe/London",
      weekly: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: [["10:00", "14:00"]] },
    },
  });

  // The other admin's card follows through session.settings, without reloading.
  const seen = watcher.getByTestId("session-default");
  await expect.poll(() => seen.getByLabel(/Alert supervisors after/).inputValue()).toBe("30");
  expect(await seen.getByLabel(/Ask the customer to rate/).isChecked()).toBe(true);
  expect(await seen.getByLabel("Rating question").inputValue()).toBe("How did we do? 1 to 5, please.");
  expect(await seen.getByLabel("Saturday interval 1 to").inputValue()).toBe("14:00");
  await screenshot(page, "session-settings");

  // Put back as they were for the tests after this one.
  await stack.api("PATCH", "/api/sessions/default", { csat_enabled: false, csat_question: null, sla_wait_seconds: null, business_hours: null });
  await Promise.all([ctx.close(), other.close()]);
});

test("log out asks first, then the session stops", async () => {
  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.goto(`${stack.hub}/sessions`);
  const card = page.getByTestId("session-default");
  await expect.poll(() => card.getByTestId("session-status").textContent()).toBe("WORKING");
  await card.getByRole("button", { name: "Log out…" }).click();
  await card.getByRole("group", { name: "Confirm log out" }).getByRole("button", { name: "Log out" }).click();
  await expect.poll(() => card.getByTestId("session-status").textContent(), { timeout: 15_000 }).not.toBe("WORKING");
  await ctx.close();
});
