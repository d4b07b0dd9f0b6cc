// Debian's Chromium driven by playwright-core: never a downloaded browser.

import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { startStack, type Stack } from "./stack";

export function chromiumPath(): string {
  const candidates = [
    process.env.CHROMIUM,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  ].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      "No Chromium for the browser tests: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM=<path>.",
    );
  return found;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

export async function signIn(ctx: BrowserContext, hub: string, email: string, password: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${hub}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
  return page;
}

/** Screenshots land in docs/screenshots when UPDATE_SCREENSHOTS=1, else in a scratch folder. */
export async function screenshot(page: Page, name: string) {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? resolve(__dirname, "../../docs/screenshots")
    : resolve(process.env.TMPDIR ?? "/tmp", "tickhub-screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: resolve(dir, `${name}.png`) });
}

/**
 * A hub, the WAHA simulator and Chromium for one test file: started before its first test,
 * stopped after its last. `use` receives them (the file keeps them in its own variables).
 */
export function withStack(use: (stack: Stack, browser: Browser) => void, env: Record<string, string> = {}) {
  let started: [Stack, Browser] | undefined;
  beforeAll(async () => {
    started = await Promise.all([startStack(env), launch()]);
    use(...started);
  });
  afterAll(async () => {
    await started?.[1].close();
    await started?.[0].stop();
  });
}
