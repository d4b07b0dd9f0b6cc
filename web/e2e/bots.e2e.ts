import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

interface Trigger {
  id: number;
  priority: number;
  pattern: string | null;
  response: string | null;
}

const CONTAINS_REPLY = "Our prices start at £20, {{contact.first_name}}.";
const WORD_REPLY = "Haircut £25 · Colour £60 · book at bela.example/book";

async function addTrigger(page: Page, match: string, pattern: string, response: string) {
  await page.getByRole("button", { name: "+ Add trigger" }).click();
  const form = page.getByRole("form", { name: "New trigger" });
  await form.getByLabel("Match").selectOption({ label: match });
  await form.getByLabel("Pattern", { exact: true }).fill(pattern);
  await form.getByLabel("Response", { exact: true }).fill(response);
  await form.getByRole("button", { name: "Add trigger" }).click();
  await form.waitFor({ state: "detached" });
  await expect.poll(() => page.getByTestId("trigger-status").textContent()).toMatch(/^Trigger #\d+ added$/);
}

async function testMessage(page: Page, text: string) {
  await page.getByLabel("Customer message").fill(text);
  await page.getByRole("button", { name: "Test", exact: true }).click();
}

test("build a bot in the browser: triggers reordered by drag, business hours saved, and a customer gets its reply", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1150 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.goto(`${stack.hub}/bots`);
  await page.getByLabel("New bot name").fill("Front desk");
  await page.getByRole("button", { name: "Create bot" }).click();
  await page.waitForURL(/\/bots\/\d+$/);
  const botId = Number(new URL(page.url()).pathname.split("/").pop());

  // Settings: serve the default session, switch it on, greet, and keep business hours with a holiday.
  const settings = page.getByRole("form", { name: "Bot settings" });
  await settings.getByLabel("default", { exact: true }).check();
  await settings.getByLabel("Active (answers customers)").check();
  await settings.getByLabel("Greeting (to a first-time contact)", { exact: true }).fill("Hi! This is Bela Salon's assistant.");
  await settings.getByLabel("Only open at set hours").check();
  await settings.getByLabel("Search time zones").fill("London");
  await expect.poll(() => settings.getByLabel("Time zone", { exact: true }).inputValue()).toBe("Europe/London");
  await settings.getByRole("button", { name: "Add hours on Saturday" }).click();
  await settings.getByLabel("Saturday interval 1 from").fill("10:00");
  await settings.getByLabel("Saturday interval 1 to").fill("14:00");
  await settings.getByRole("button", { name: "+ Holiday" }).click();
  await settings.getByLabel("Holiday 1", { exact: true }).fill("2026-12-25");
  await settings.getByLabel("After-hours message", { exact: true }).fill("We are closed now; we open {{business.hours_today}}.");
  await settings.getByRole("button", { name: "Save settings" }).click();
  await expect.poll(() => settings.getByText("Saved", { exact: true }).count()).toBe(1);
  const saved = await stack.api("GET", `/api/bots/${botId}`);
  expect(saved.sessions).toEqual(["default"]);
  expect(saved.active).toBe(true);
  expect(saved.business_hours).toEqual({
    time_zone: "Europe/London",
    weekly: { mon: [["09:00", "17:00"]], tue: [["09:00", "17:00"]], wed: [["09:00", "17:00"]], thu: [["09:00", "17:00"]], fri: [["09:00", "17:00"]], sat: [["10:00", "14:00"]] },
    holidays: ["2026-12-25"],
  });

  // Two triggers that both match "price": the one added first fires first.
  await addTrigger(page, "Contains", "price", CONTAINS_REPLY);
  await addTrigger(page, "Whole word(s)", "price", WORD_REPLY);
  const triggers = (await stack.api<{ items: Trigger[] }>("GET", `/api/triggers?bot_id=${botId}`)).items;
  const upper = triggers.find((t) => t.response === CONTAINS_REPLY)!;
  const lower = triggers.find((t) => t.response === WORD_REPLY)!;
  expect(upper.priority).toBeGreaterThan(lower.priority);

  await testMessage(page, "what's the price?");
  await expect.poll(() => page.getByTestId("test-trigger").textContent()).toContain(`#${upper.id}`);

  // Drag the lower above the upper: the order is saved in one call, and the tester now picks it.
  const writes: string[] = [];
  page.on("request", (r) => {
    if (r.method() !== "GET" && /\/(triggers|trigger-order)/.test(r.url())) writes.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  await page.getByTestId(`trigger-head-${lower.id}`).dragTo(page.getByTestId(`trigger-${upper.id}`));
  await expect.poll(() => page.getByTestId("trigger-status").textContent()).toContain("Order saved");
  expect(writes).toEqual([`PUT /api/bots/${botId}/trigger-order`]);
  const after = (await stack.api<{ items: Trigger[] }>("GET", `/api/triggers?bot_id=${botId}`)).items;
  const prio = (id: number) => after.find((t) => t.id === id)!.priority;
  expect(prio(lower.id)).toBeGreaterThan(prio(upper.id));
  const shown = await page.getByTestId("trigger-list").locator("[data-trigger-id]").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.triggerId)));
  expect(shown).toEqual([lower.id, upper.id]);

  await testMessage(page, "what's the price?");
  await expect.poll(() => page.getByTestId("test-trigger").textContent()).toContain(`#${lower.id}`);
  await expect.poll(() => page.getByTestId(`trigger-${lower.id}`).getAttribute("aria-current")).toBe("true");
  expect(await page.getByTestId("test-reply").allTextContents()).toEqual([WORD_REPLY]);

  // A real customer through the simulator: greeted, then answered by the trigger now on top.
  await stack.inbound("447700900123@c.us", "Hello, what's the price?");
  const sentTo = async () => {
    const res = await fetch(`${stack.sim}/sim/sent`);
    const all = (await res.json()) as { chatId: string; text: string }[];
    return all.filter((m) => m.chatId === "447700900123@c.us").map((m) => m.text);
  };
  await expect.poll(sentTo, { timeout: 15_000 }).toContain(WORD_REPLY);
  const texts = await sentTo();
  expect(texts).toContain("Hi! This is Bela Salon's assistant.");
  expect(texts.filter((t) => t === WORD_REPLY)).toHaveLength(1);
  expect(texts.some((t) => t.startsWith("Our prices start at"))).toBe(false);

  // The picture: a few more triggers (arranged over the API), one open in the editor with its
  // preview, and the tester's answer for a message only the hours trigger knows.
  const more = [
    { match: "any_keyword", keywords: ["hours", "open", "opening"], action: "reply", priority: -10, response: "Hours today: {{business.hours_today}}. See you soon, {{contact.first_name}}!" },
    { match: "regex", pattern: "\\b(cancel|reschedul\\w*)\\b", action: "reply_and_handoff", priority: -20, response: "No problem, {{contact.first_name}}: a colleague will sort out your booking." },
    { match: "word", pattern: "complaint", action: "handoff", priority: -30 },
  ];
  for (const t of more) await stack.api("POST", "/api/triggers", { bot_id: botId, active: true, ...t });
  await page.reload();
  await page.getByTestId("trigger-list").locator("[data-trigger-id]").nth(4).waitFor();
  await page.getByRole("button", { name: /^Edit trigger 3 / }).click();
  await page.getByLabel("Contact name").fill("Maria Silva");
  await testMessage(page, "What are your opening hours?");
  await expect.poll(() => page.getByTestId("test-action").textContent()).toBe("reply");
  await screenshot(page, "bots");
  await ctx.close();
});

test("the list shows each bot's figures, a conversation replays through the bot, and a bot is deleted after a confirm", async () => {
  // Runs after the first test: its bot answered one customer on the default session.
  const bots = (await stack.api<{ items: { id: number; name: string }[] }>("GET", "/api/bots")).items;
  const frontDesk = bots.find((b) => b.name === "Front desk")!;
  const old = await stack.api<{ id: number }>("POST", "/api/bots", { name: "Old promo bot", sessions: [], active: false });
  const convs = (await stack.api<{ items: { id: number; chat_id: string }[] }>("GET", "/api/conversations")).items;
  const conv = convs.find((c) => c.chat_id === "447700900123@c.us")!;

  const ctx = await browser.newContext();
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await page.goto(`${stack.hub}/bots`);
  const row = page.getByTestId(`bot-${frontDesk.id}`);
  await expect.poll(() => row.textContent()).toMatch(/1 conversation · 1 match · 0 misses · 0 handoffs/);

  await page.getByRole("button", { name: "Delete Old promo bot" }).click();
  await page.getByRole("button", { name: "Delete bot" }).click();
  await page.getByTestId(`bot-${old.id}`).waitFor({ state: "detached" });
  const gone = await fetch(`${stack.hub}/api/bots/${old.id}`, { headers: { Authorization: `Bearer ${stack.token}` } });
  expect(gone.status).toBe(404);

  await row.getByRole("link", { name: "Front desk" }).click();
  await page.waitForURL(new RegExp(`/bots/${frontDesk.id}$`));
  await page.getByText("Replay a conversation").click();
  await page.getByLabel("Conversation id").fill(String(conv.id));
  await page.getByRole("button", { name: "Replay", exact: true }).click();
  const steps = page.locator(".bots-replay-steps li");
  await expect.poll(() => steps.count()).toBe(1);
  expect(await steps.first().textContent()).toContain("Hello, what's the price?");
  expect(await steps.first().textContent()).toContain(WORD_REPLY);
  await ctx.close();
});
