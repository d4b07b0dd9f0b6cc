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
