import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { parseCsv } from "../src/pages/contacts/csv";
import { withStack, screenshot, signIn } from "./browser";
import { fitsPhone } from "./phone";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

// Not the machine's zone: the page must use the browser's own.
const ZONE = "America/Sao_Paulo";

async function conversationOf(chatId: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const list = await stack.api<{ items: { id: number; chat_id: string }[] }>("GET", "/api/conversations?limit=200");
    const c = list.items.find((x) => x.chat_id === chatId);
    if (c) return c.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no conversation for ${chatId}`);
}

/** What a click on a download link saves, as text. */
async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: readFileSync(path!, "utf8") };
}

const cell = (page: Page, rowTestId: string, col: string) => page.getByTestId(rowTestId).locator(`[data-col="${col}"]`).textContent();

test("an agent's handled conversation shows in the reports (and their CSV) and on the board's Today strip, live", async () => {
  // The admin assigns by hand, so the conversation is the agent's when it is resolved.
  await stack.api("PATCH", "/api/sessions/default", { auto_assign: false });
  const ana = await stack.member("ana@example.com", "Ana Agent", "agent");

  // A customer writes; the agent answers and resolves.
  await stack.inbound("447700900301@c.us", "Hello, where is my parcel?");
  const conv = await conversationOf("447700900301@c.us");
  await stack.api("POST", `/api/conversations/${conv}/assign`, { assignee_id: ana.id });
  await stack.api("POST", `/api/conversations/${conv}/messages`, { text: "It left the warehouse this morning." }, ana.token);
  await stack.api("POST", `/api/conversations/${conv}/resolve`, undefined, ana.token);
  // The projection counts it in the background: wait until the hub's report has it.
  await expect
    .poll(
      async () => {
        const r = await stack.api<{ items: { user_id: number; conversations_handled: number }[] }>("GET", "/api/analytics/agents");
        return r.items.find((a) => a.user_id === ana.id)?.conversations_handled;
      },
      { timeout: 20_000 },
    )
    .toBe(1);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, timezoneId: ZONE });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  page.setDefaultTimeout(15_000);
  const reads: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/analytics/")) reads.push(r.url());
  });
  await page.getByRole("link", { name: "Reports" }).click();
  const row = `agent-${ana.id}`;
  await page.getByTestId(row).waitFor();
  expect(await page.getByTestId(row).getByRole("rowheader").textContent()).toBe("Ana Agent");
  expect(await cell(page, row, "Handled")).toBe("1");
  expect(await cell(page, row, "Messages sent")).toBe("1");
  expect(await cell(page, row, "Responses")).toBe("1");
  expect(await cell(page, "agent-team", "Handled")).toBe("1");
  // The browser's zone, the last seven days.
  expect(await page.getByLabel("Time zone").inputValue()).toBe(ZONE);
  expect(new URL(reads[0]).searchParams.get("tz")).toBe(ZONE);
  expect(await page.getByRole("button", { name: "Last 7 days" }).getAttribute("aria-pressed")).toBe("true");

  // A range before anything happened has no figures; today has the conversation again.
  await page.getByLabel("From", { exact: true }).fill("2025-01-01");
  await page.getByLabel("To", { exact: true }).fill("2025-01-31");
  await page.getByText("No figures in this period.").waitFor();
  expect(new URL(reads.at(-1)!).searchParams.get("to")).toBe("2025-01-31");
  await page.getByRole("button", { name: "Today" }).click();
  await expect.poll(() => cell(page, row, "Handled")).toBe("1");
  // An impossible range: the hub's message, naming the field.
  await page.getByLabel("From", { exact: true }).fill("2026-12-31");
  await page.getByLabel("To", { exact: true }).fill("2026-01-01");
  await expect.poll(() => page.getByTestId("report-error").textContent()).toContain("from");
  await page.getByRole("button", { name: "Last 7 days" }).click();
  await page.getByTestId(row).waitFor();

  // The CSV: the same report, the team's row last.
  const csv = await download(page, () => page.getByTestId("download-csv").click());
  expect(csv.name).toMatch(/^agents-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const rows = parseCsv(csv.text).map((r) => r.cells);
  const head = rows[0];
  const col = (r: string[], name: string) => r[head.indexOf(name)];
  expect(head).toContain("conversations_handled");
  const anaRow = rows.find((r) => col(r, "user_id") === String(ana.id))!;
  expect(col(anaRow, "name")).toBe("Ana Agent");
  expect(col(anaRow, "conversations_handled")).toBe("1");
  expect(col(anaRow, "messages_sent")).toBe("1");
  expect(col(rows.at(-1)!, "user_id")).toBe("");
  expect(col(rows.at(-1)!, "conversations_handled")).toBe("1");

  // The sessions report draws the day's traffic.
  await page.getByRole("tab", { name: "Sessions" }).click();
  const session = page.getByTestId("session-default");
  await expect.poll(() => session.getByTestId("messages-in").textContent()).toBe("1");
  expect(await session.getByTestId("messages-out").textContent()).toBe("1");
  expect(await session.getByTestId("chart-hours").locator("rect[data-dir=in][data-value='1']").count()).toBe(1);
  await screenshot(page, "reports-sessions");
  await page.getByRole("tab", { name: "Agents" }).click();
  await page.getByTestId(row).waitFor();
  await screenshot(page, "reports");
  // On a phone the table scrolls inside its card; the page itself does not.
  expect(await fitsPhone(page)).toBe(true);
  await page.setViewportSize({ width: 1280, height: 800 });

  // The board's Today strip: today's messages and the resolve, then a new message pushed live.
  await page.getByRole("link", { name: "Board" }).click();
  const today = page.getByTestId("today");
  await expect.poll(() => today.getByTestId("today-in").textContent()).toBe("1");
  expect(await today.getByTestId("today-out").textContent()).toBe("1");
  expect(await today.getByTestId("today-resolved").textContent()).toBe("1");
  expect(await today.getByTestId("today-first-response").textContent()).toMatch(/^\d+ s$|^\d+ min$/);
  expect(await today.getByTestId("status-default").getAttribute("data-status")).toBe("WORKING");
  let boardReads = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/dashboard")) boardReads++;
  });
  await stack.inbound("447700900302@c.us", "Do you deliver on Sundays?");
  await expect.poll(() => today.getByTestId("today-in").textContent(), { timeout: 20_000 }).toBe("2");
  // It came over the socket: the board was not read again.
  expect(boardReads).toBe(0);
  await screenshot(page, "board-today");
  await ctx.close();
});

test("an agent sees the agents report with their own row only; marketing sees the campaigns", async () => {
  const sam = await stack.member("sam@example.com", "Sam Sales", "sales");
  await stack.member("mo@example.com", "Mo Marketing", "marketing");
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await signIn(ctx, stack.hub, "sam@example.com", ADMIN.password);
  page.setDefaultTimeout(15_000);
  await page.goto(`${stack.hub}/reports/sessions`);
  await page.getByTestId("report").waitFor();
  expect(await page.getByTestId("report").getAttribute("data-kind")).toBe("agents");
  expect(await page.getByRole("tab").count()).toBe(0);
  // Ana's row of the first test is not Sam's to read; Sam has no figures yet.
  await page.getByText("No figures in this period.").waitFor();
  expect(await page.getByTestId("agent-team").count()).toBe(0);
  expect(sam.id).toBeGreaterThan(0);
  await ctx.close();

  const mctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const mo = await signIn(mctx, stack.hub, "mo@example.com", ADMIN.password);
  await mo.getByRole("link", { name: "Reports" }).click();
  await mo.getByTestId("report").waitFor();
  expect(await mo.getByTestId("report").getAttribute("data-kind")).toBe("campaigns");
  await mo.getByText("No campaign started in this period.").waitFor();
  await mctx.close();
});
