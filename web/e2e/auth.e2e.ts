import { expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

test("a wrong password is refused with a message, and the right one signs in", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${stack.hub}/inbox`);
  await page.waitForURL(/\/login$/);
  await screenshot(page, "login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("Wrong email or password");
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/inbox$/);
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
  await ctx.close();
});

test("signing out goes back to the login page, and the cookie no longer works", async () => {
  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.getByTestId("logout").click();
  await page.waitForURL(/\/login$/);
  await expect.poll(() => page.getByTestId("login-notice").textContent()).toContain("signed out");
  await page.goto(`${stack.hub}/inbox`);
  await page.waitForURL(/\/login$/);
  await ctx.close();
});

test("a token revoked elsewhere sends the app back to login with a message", async () => {
  const { token } = await stack.member("rev@example.com", "Rex Revoked", "agent");
  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, "rev@example.com", ADMIN.password);
  // Deactivating the member revokes every token and closes the sockets: the app asks who
  // it is, hears 401, and says why it is back at the login page.
  const users = await stack.api<{ items: { id: number; email: string }[] }>("GET", "/api/team-members");
  const id = users.items.find((u) => u.email === "rev@example.com")!.id;
  await stack.api("POST", `/api/team-members/${id}/deactivate`);
  await page.waitForURL(/\/login$/, { timeout: 20_000 });
  await expect.poll(() => page.getByTestId("login-notice").textContent()).toContain("expired or was signed out");
  expect(token).toBeTruthy();
  await ctx.close();
});
