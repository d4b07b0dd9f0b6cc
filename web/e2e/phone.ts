import type { Page } from "playwright-core";

/** At a phone's width the page stacks: nothing wider than the screen (the top bar scrolls its own nav). */
export async function fitsPhone(page: Page): Promise<boolean> {
  await page.setViewportSize({ width: 390, height: 844 });
  if (process.env.PHONE_SHOTS) await page.screenshot({ path: `/tmp/phone-${new URL(page.url()).pathname.slice(1)}.png`, fullPage: true });
  return page.evaluate(() => {
    const main = document.querySelector("main")!;
    return main.scrollWidth <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth;
  });
}
