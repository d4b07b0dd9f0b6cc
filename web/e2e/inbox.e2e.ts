import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launch, screenshot, signIn } from "./browser";
import { ADMIN, startStack, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const budget: string[] = [];

const NAMES = ["Maria Silva", "Tom Baker", "Priya Shah", "Lukas Weber", "Aiko Tanaka", "Omar Haddad"];

interface Conv {
  id: number;
  chat_id: string;
  status: string;
  assignee_id: number | null;
}
interface Msg {
  id: number;
  text: string;
  direction: string;
  waha_id: string | null;
  status: string;
}

async function conversationOf(phone: string): Promise<Conv> {
  for (let i = 0; i < 100; i++) {
    const list = await stack.api<{ items: Conv[] }>("GET", "/api/conversations?limit=200");
    const c = list.items.find((x) => x.chat_id === `${phone}@c.us`);
    if (c) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no conversation for ${phone}`);
}

const row = (p: Page, text: string) => p.getByTestId("conversation").filter({ hasText: text });
const bubble = (p: Page, text: string) => p.getByTestId("message").filter({ hasText: text });

/** Records, for each message element the page adds, the next animation frame after it appeared. */
async function watchPaints(p: Page) {
  await p.evaluate(() => {
    const w = window as any;
    w.__paints = {};
    new MutationObserver((muts) => {
      for (const m of muts)
        for (const n of Array.from(m.addedNodes)) {
          if (!(n instanceof HTMLElement)) continue;
          const els = n.matches("[data-message-id]") ? [n] : Array.from(n.querySelectorAll<HTMLElement>("[data-message-id]"));
          for (const el of els) {
            const id = el.dataset.messageId!;
            if (w.__paints[id] === undefined) requestAnimationFrame(() => (w.__paints[id] ??= performance.now()));
          }
        }
    }).observe(document.body, { childList: true, subtree: true });
  });
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
  // Enough customers for a real first page of the list.
  for (let i = 0; i < 50; i++) await stack.inbound(`4479000${String(i).padStart(5, "0")}`, `Question number ${i}`, { notify_name: `Customer ${i}` });
  for (const [i, name] of NAMES.entries())
    await stack.inbound(`4477009001${i}`, `Hi, this is ${name.split(" ")[0]} about my order`, { notify_name: name });
  await conversationOf(`4477009001${NAMES.length - 1}`);
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(() => ((window as any).__tickhubPerf = {}));
  page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  // Shorter than the test's own timeout, so a failure names the step that waited.
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => console.log("PAGEERROR", e.message));
  page.on("console", (m) => m.type() === "error" && console.log("CONSOLE", m.text()));
});

// A failure leaves what the page showed, for whoever reads the log.
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && page)
    console.log(`page at failure (${page.url()}):\n${(await page.locator("main").innerText().catch(() => "")).slice(0, 2500)}`);
});

afterAll(async () => {
  if (budget.length) console.log(`inbox budget:\n  ${budget.join("\n  ")}`);
  await browser?.close();
  await stack?.stop();
});

test("the list renders its first page, and a customer's message arrives live and is answered", async () => {
  await page.goto(`${stack.hub}/inbox`);
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
  await row(page, "Omar Haddad").waitFor();
  const first = await page.waitForFunction(() => (window as any).__tickhubPerf.listPainted, null, { timeout: 10_000 });
  const rows = await page.evaluate(() => (window as any).__tickhubPerf.listRows);
  budget.push(`first render of ${rows} conversations: ${Math.round(Number(await first.jsonValue()))} ms (since navigation start)`);
  expect(rows).toBe(50);
  // "All" shows what is still to do: everything but resolved, unless asked otherwise.
  expect(await page.getByLabel("Status").inputValue()).toBe("bot,pending,open");
  // Virtualised: far fewer rows in the DOM than in the list.
  expect(await page.getByTestId("conversation").count()).toBeLessThan(40);

  await stack.inbound("447700900100", "Is my parcel on its way?", { notify_name: "Nina Novak" });
  await row(page, "Nina Novak").filter({ hasText: "Is my parcel on its way?" }).waitFor();
  expect(await page.getByTestId("conversation").first().textContent()).toContain("Nina Novak");
  await expect.poll(() => row(page, "Nina Novak").getByTestId("unread").textContent()).toBe("1");

  await row(page, "Nina Novak").click();
  await page.waitForURL(/\/inbox\/\d+$/);
  await bubble(page, "Is my parcel on its way?").waitFor();
  // Opening it reads it.
  await expect.poll(() => row(page, "Nina Novak").getByTestId("unread").count()).toBe(0);

  await watchPaints(page);
  await stack.inbound("447700900100", "It was due yesterday.", { notify_name: "Nina Novak" });
  await bubble(page, "It was due yesterday.").waitFor();
  const latency = await page.waitForFunction(() => {
    const w = window as any;
    const ids = Object.keys(w.__tickhubPerf.frames ?? {}).filter((id) => w.__paints[id] !== undefined);
    return ids.length ? w.__paints[ids.at(-1)!] - w.__tickhubPerf.frames[ids.at(-1)!] : null;
  });
  budget.push(`paint after frame: ${(Number(await latency.jsonValue())).toFixed(1)} ms`);

  // Hold WhatsApp's acks back, so the reply is seen before it is read.
  const conv = await conversationOf("447700900100");
  await fetch(`${stack.sim}/sim/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ webhook_pause: true }) });
  const box = page.getByTestId("composer");
  await box.fill("Let me check that for you.");
  await box.press("Enter");
  const reply = bubble(page, "Let me check that for you.");
  await reply.waitFor();
  expect(await box.inputValue()).toBe("");
  await expect.poll(() => reply.getByTestId("ticks").getAttribute("data-status")).toBe("sent");
  const sent = (await stack.api<{ items: Msg[] }>("GET", `/api/conversations/${conv.id}/messages`)).items.find(
    (m) => m.text === "Let me check that for you.",
  )!;
  expect(sent.waha_id).toBeTruthy();
  await fetch(`${stack.sim}/sim/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ webhook_pause: false }) });
  await stack.ack(sent.waha_id!, conv.chat_id, 3);
  await expect.poll(() => reply.getByTestId("ticks").getAttribute("data-status")).toBe("read");
  const colour = await reply.getByTestId("ticks").evaluate((e) => getComputedStyle(e).color);
  expect(colour).toBe("rgb(52, 183, 241)");
  // Shown once, the optimistic bubble replaced by the hub's.
  expect(await reply.count()).toBe(1);

  await stack.api("POST", `/api/conversations/${conv.id}/notes`, { text: "Courier says Thursday; offer a voucher if it slips." });
  await page.getByTestId("note").filter({ hasText: "Courier says Thursday" }).waitFor();
  expect(await page.getByRole("complementary").textContent()).toContain("Courier says Thursday");
  await screenshot(page, "inbox");
});

test("assigning to a colleague takes it out of 'mine'", async () => {
  const bea = await stack.member("bea@example.com", "Bea Agent", "agent");
  const conv = await conversationOf("447700900100");
  await page.goto(`${stack.hub}/inbox/${conv.id}`);
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
  const assignTo = page.getByLabel("Assign to");
  // Options carry the member's presence after the name.
  const pick = async (name: string) => {
    const value = () =>
      assignTo.evaluate((el, n) => {
        const o = Array.from((el as HTMLSelectElement).options).find((x) => x.text.startsWith(n));
        return o ? o.value : Array.from((el as HTMLSelectElement).options).map((x) => x.text).join(" | ");
      }, name);
    await expect.poll(value).toMatch(/^\d+$/);
    await assignTo.selectOption(await value());
  };
  await pick("Ada Admin");
  await page.getByRole("button", { name: "Assign" }).click();
  await expect.poll(() => page.getByTestId("assignee").textContent()).toBe("You");
  await page.getByTestId("view-mine").click();
  await row(page, "Nina Novak").waitFor();

  await pick("Bea Agent");
  await page.getByRole("button", { name: "Transfer" }).click();
  await expect.poll(() => page.getByTestId("assignee").textContent()).toBe("Bea Agent");
  await expect.poll(() => row(page, "Nina Novak").count()).toBe(0);
  const after = await conversationOf("447700900100");
  expect(after.assignee_id).toBe(bea.id);
  await page.getByTestId("view-all").click();
  await row(page, "Nina Novak").waitFor();
});

test("an agent reads why a conversation is theirs after a reload, and hands it to a colleague through the picker", async () => {
  // Only the admin's hand decides here: the router must not give the queue to the agent.
  const before = await stack.api<{ auto_assign: boolean }>("GET", "/api/sessions/default");
  await stack.api("PATCH", "/api/sessions/default", { auto_assign: false });
  const cleo = await stack.member("cleo@example.com", "Cleo Agent", "agent");
  const dan = await stack.member("dan@example.com", "Dan Agent", "agent");
  const phone = "447700900500";
  await stack.inbound(phone, "Can someone look at my invoice?", { notify_name: "Hana Hand" });
  const conv = await conversationOf(phone);
  await stack.api("POST", `/api/conversations/${conv.id}/assign`, { assignee_id: cleo.id });

  const agentCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await signIn(agentCtx, stack.hub, "cleo@example.com", ADMIN.password);
  p.setDefaultTimeout(15_000);
  await p.goto(`${stack.hub}/inbox/${conv.id}`);
  await bubble(p, "Can someone look at my invoice?").waitFor();
  await p.reload();
  await bubble(p, "Can someone look at my invoice?").waitFor();
  // From the assignment log, which agents now read: nothing came over the socket.
  await expect.poll(() => p.getByTestId("why").textContent()).toContain("assigned by Ada Admin");
  // The admin's name on it comes from the session's team, readable by agents.
  expect(await p.getByTestId("assignee").textContent()).toBe("You");

  const picker = p.getByLabel("Hand over to");
  const dansOption = () =>
    picker.evaluate((el) => {
      const o = Array.from((el as HTMLSelectElement).options).find((x) => x.text.startsWith("Dan Agent"));
      return o ? o.value : Array.from((el as HTMLSelectElement).options).map((x) => x.text).join(" | ");
    });
  await expect.poll(dansOption).toBe(String(dan.id));
  await picker.selectOption(String(dan.id));
  await p.getByRole("button", { name: "Transfer" }).click();
  await expect.poll(async () => (await conversationOf(phone)).assignee_id).toBe(dan.id);
  // Handed on, it leaves the agent's sight, named for who has it now.
  await expect.poll(() => p.locator("main").innerText()).toContain("went to Dan Agent");
  await expect.poll(() => row(p, "Hana Hand").count()).toBe(0);
  await agentCtx.close();
  await stack.api("PATCH", "/api/sessions/default", { auto_assign: before.auto_assign });
});

test("saved replies with `/`, media through the hub, and private notes in the thread", async () => {
  await stack.api("POST", "/api/quick-replies", { shortcut: "thanks", text: "Thank you for waiting, we are on it." });
  const phone = "447700900400";
  await stack.inbound(phone, "Here is my receipt", {
    notify_name: "Mia Media",
    media: { mimetype: "image/png", filename: "receipt.png" },
  });
  const conv = await conversationOf(phone);
  await page.goto(`${stack.hub}/inbox/${conv.id}`);
  const img = page.getByRole("img", { name: "receipt.png" });
  await img.waitFor();
  await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);

  const box = page.getByTestId("composer");
  await box.fill("/than");
  await page.getByRole("option", { name: /thanks/ }).waitFor();
  await box.press("Enter");
  expect(await box.inputValue()).toBe("Thank you for waiting, we are on it.");
  await box.press("Enter");
  await bubble(page, "Thank you for waiting, we are on it.").waitFor();

  await page.getByLabel("Add a private note").fill("Refund approved by finance");
  await page.getByRole("button", { name: "Add note" }).click();
  await page.getByTestId("note").filter({ hasText: "Refund approved by finance" }).waitFor();
  // The contact as the hub knows it, in the side panel.
  expect(await page.getByRole("complementary").textContent()).toContain("Mia Media");
});

test("j/k move between conversations, e resolves, / searches", async () => {
  await page.goto(`${stack.hub}/inbox`);
  await row(page, "Omar Haddad").waitFor();
  await page.locator("body").click({ position: { x: 700, y: 400 } });
  await page.keyboard.press("j");
  await page.waitForURL(/\/inbox\/\d+$/);
  const firstUrl = page.url();
  await page.keyboard.press("j");
  await expect.poll(() => page.url()).not.toBe(firstUrl);
  await page.keyboard.press("k");
  await expect.poll(() => page.url()).toBe(firstUrl);
  await page.getByTestId("status").waitFor();
  await page.keyboard.press("e");
  await expect.poll(() => page.getByTestId("status").textContent()).toBe("resolved");
  await page.keyboard.press("/");
  expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Search conversations");
  await page.keyboard.type("Priya");
  await expect.poll(() => page.getByTestId("conversation").count()).toBe(1);
  expect(await page.getByTestId("conversation").textContent()).toContain("Priya Shah");
  await page.getByLabel("Search conversations").fill("");
});

test("a hub restart while messages arrive loses nothing and repeats nothing", async () => {
  const phone = "447700900200";
  await stack.inbound(phone, "restart-0 before", { notify_name: "Rita Restart" });
  const conv = await conversationOf(phone);
  await page.goto(`${stack.hub}/inbox/${conv.id}`);
  await bubble(page, "restart-0 before").waitFor();
  await stack.inbound(phone, "restart-1 before", { notify_name: "Rita Restart" });
  await bubble(page, "restart-1 before").waitFor();

  await stack.restartHub();
  // The page is still reconnecting: these come back to it by `since`.
  for (let i = 2; i < 6; i++) await stack.inbound(phone, `restart-${i} during`, { notify_name: "Rita Restart" });
  await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor({ timeout: 20_000 });
  await stack.inbound(phone, "restart-marker", { notify_name: "Rita Restart" });
  await bubble(page, "restart-marker").waitFor({ timeout: 20_000 });
  for (let i = 0; i < 6; i++) expect(await bubble(page, `restart-${i} `).count()).toBe(1);
  expect(await page.getByTestId("message").count()).toBe(7);
});

test("on a phone the list and the thread take turns", async () => {
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const p = await signIn(phoneCtx, stack.hub, ADMIN.email, ADMIN.password);
  await p.goto(`${stack.hub}/inbox`);
  await row(p, "Maria Silva").click();
  await p.getByTestId("composer").waitFor();
  expect(await p.getByRole("listbox", { name: "Conversations" }).isVisible()).toBe(false);
  await p.getByRole("button", { name: "Back to the list" }).click();
  await row(p, "Maria Silva").waitFor();
  await screenshot(p, "inbox-phone");
  await phoneCtx.close();
});

test("the bot answers, then hands over to a person", async () => {
  const bot = await stack.api<{ id: number }>("POST", "/api/bots", {
    name: "Helper",
    sessions: ["default"],
    active: true,
    handoff_keywords: ["agent", "human"],
  });
  await stack.api("POST", "/api/triggers", {
    bot_id: bot.id,
    match: "word",
    pattern: "price",
    priority: 10,
    response: "Our plans start at 9 € a month.",
    action: "reply",
    active: true,
  });
  const phone = "447700900300";
  await stack.inbound(phone, "What is the price?", { notify_name: "Bruno Bot" });
  const conv = await conversationOf(phone);
  await page.goto(`${stack.hub}/inbox/${conv.id}`);
  const answer = bubble(page, "Our plans start at 9 € a month.");
  await answer.waitFor();
  expect(await answer.textContent()).toContain("🤖 Helper");
  expect(await page.getByTestId("status").textContent()).toBe("bot");

  await stack.inbound(phone, "I want a human please", { notify_name: "Bruno Bot" });
  await bubble(page, "I want a human please").waitFor();
  await expect.poll(() => page.getByTestId("status").textContent()).not.toBe("bot");
  await expect.poll(() => page.getByTestId("why").textContent()).toContain("the customer asked for a person");
  await stack.api("PATCH", `/api/bots/${bot.id}`, { active: false });
});
