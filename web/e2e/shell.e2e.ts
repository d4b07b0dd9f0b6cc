import { expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { withStack, signIn } from "./browser";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

test("the connection indicator shows a dropped hub as reconnecting, then live again", async () => {
  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  const indicator = page.getByTestId("connection");
  await stack.killHub();
  await indicator.and(page.locator("[data-state=reconnecting]")).waitFor();
  expect(await indicator.textContent()).toContain("Reconnecting");
  await stack.startHub();
  await indicator.and(page.locator("[data-state=live]")).waitFor({ timeout: 30_000 });
  await ctx.close();
});

test("one's own presence switch sets busy, and it stays busy after a reload", async () => {
  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  const sw = page.getByTestId("presence-switch");
  await expect.poll(() => sw.inputValue()).toBe("online");
  await sw.selectOption("busy");
  const log = async () =>
    (await stack.api<{ items: { status: string; cause: string }[] }>("GET", "/api/team-members/1/presence")).items[0];
  await expect.poll(log).toMatchObject({ status: "busy", cause: "set_by_member" });
  await page.reload();
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
  await expect.poll(() => sw.inputValue()).toBe("busy");
  await sw.selectOption("online");
  await expect.poll(log).toMatchObject({ status: "online" });
  await ctx.close();
});

test("budget: the initial JavaScript, gzipped as the hub serves it (reported, not asserted)", async () => {
  const html = await (await fetch(`${stack.hub}/`)).text();
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map(
    (m) => m[1],
  );
  expect(scripts.length).toBeGreaterThan(0);
  let gz = 0;
  let raw = 0;
  for (const src of scripts) {
    const res = await fetch(stack.hub + src, { headers: { "Accept-Encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    // fetch decodes gzip itself; the bytes on the wire are the content-length.
    const wire = Number(res.headers.get("content-length"));
    const body = Buffer.from(await res.arrayBuffer());
    gz += wire;
    raw += body.length;
    expect(wire).toBeLessThan(body.length);
  }
  console.log(`[budget] initial JavaScript: ${(gz / 1024).toFixed(1)} KB gzipped (${(raw / 1024).toFixed(1)} KB raw) in ${scripts.length} file(s)`);
});

