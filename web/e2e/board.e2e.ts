import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { fitsPhone } from "./phone";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

const row = (page: Page, id: number) => page.getByTestId(`member-${id}`);
const attr = (page: Page, id: number, name: string) => row(page, id).getAttribute(name);

async function conversationOf(chatId: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const list = await stack.api<{ items: { id: number; chat_id: string }[] }>("GET", "/api/conversations?limit=200");
    const c = list.items.find((x) => x.chat_id === chatId);
    if (c) return c.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no conversation for ${chatId}`);
}

test("a supervisor's board follows an agent's presence and open load live", async () => {
  // Conversations wait in the queue until someone assigns them, so the test moves them itself.
  await stack.api("PATCH", "/api/sessions/default", { auto_assign: false });
  await stack.api("POST", "/api/sessions", { name: "support" });
  await expect.poll(() => stack.api("GET", "/api/sessions/support").then((s) => s.status), { timeout: 15_000 }).toBe("WORKING");
  const ana = await stack.member("ana@example.com", "Ana Agent", "agent");
  const sam = await stack.member("sam@example.com", "Sam Sales", "sales");
  await stack.api("PATCH", `/api/team-members/${ana.id}`, { capacity: 3 });
  await stack.api("PATCH", `/api/team-members/${sam.id}`, { capacity: 2 });
  await stack.member("mia@example.com", "Mia Manager", "manager");

  const boss = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const board = await signIn(boss, stack.hub, ADMIN.email, ADMIN.password);
  await board.goto(`${stack.hub}/board`);
  await row(board, ana.id).waitFor();
  expect(await attr(board, ana.id, "data-presence")).toBe("offline");
  const reads = { dashboard: 0 };
  board.on("request", (r) => {
    if (r.url().endsWith("/api/dashboard")) reads.dashboard++;
  });

  // The agent comes online in a second browser, then switches to busy in the top bar.
  const agentCtx = await browser.newContext();
  const agent = await signIn(agentCtx, stack.hub, "ana@example.com", ADMIN.password);
  await expect.poll(() => attr(board, ana.id, "data-presence")).toBe("online");
  await agent.getByTestId("presence-switch").selectOption("busy");
  await expect.poll(() => attr(board, ana.id, "data-presence")).toBe("busy");
  await expect.poll(() => row(board, ana.id).getByTestId("member-presence").textContent()).toMatch(/busy since/);

  // A board opened now shows since when from its own rows, reading no member's presence log
  // (the top bar reads the signed-in supervisor's own, for their switch).
  const self = (await stack.api<{ id: number }>("GET", "/api/auth/me")).id;
  const fresh = await boss.newPage();
  const logReads: string[] = [];
  fresh.on("request", (r) => {
    const m = /\/api\/team-members\/(\d+)\/presence/.exec(r.url());
    if (m && Number(m[1]) !== self) logReads.push(r.url());
  });
  await fresh.goto(`${stack.hub}/board`);
  await expect.poll(() => row(fresh, ana.id).getByTestId("member-presence").textContent()).toMatch(/busy since/);
  expect(logReads).toEqual([]);
  await fresh.close();

  // A customer writes: the queue shows them waiting; assigned to the agent, the load moves.
  await stack.inbound("447700900101@c.us", "Hello, my order has not arrived");
  const conv = await conversationOf("447700900101@c.us");
  const queue = board.getByTestId("queue-default");
  await expect.poll(() => queue.getByTestId("queue-unassigned").textContent()).toContain("1");
  await expect.poll(() => queue.getByTestId("queue-wait").textContent()).toMatch(/oldest \d+ s/);
  expect(await attr(board, ana.id, "data-open")).toBe("0");
  await stack.api("POST", `/api/conversations/${conv}/assign`, { assignee_id: ana.id });
  await expect.poll(() => attr(board, ana.id, "data-open")).toBe("1");
  await expect.poll(() => row(board, ana.id).getByTestId("member-open").textContent()).toBe("1 / 3");
  await expect.poll(() => queue.getByTestId("queue-unassigned").textContent()).toContain("0");

  // The presence history of the agent, newest first.
  await row(board, ana.id).click();
  const history = board.getByTestId("presence-history");
  await expect.poll(() => history.getByTestId("presence-entry").first().textContent()).toContain("busy");
  expect(await history.textContent()).toContain("set by the member");

  // More of a working day for the picture: a few customers waiting, a full agent.
  const samCtx = await browser.newContext();
  await signIn(samCtx, stack.hub, "sam@example.com", ADMIN.password);
  for (const [n, text] of [
    ["447700900102", "Can I change my delivery address?"],
    ["447700900103", "Do you ship to Spain?"],
    ["447700900104", "Refund for order 5521"],
    ["447700900105", "Is the blue one back in stock?"],
  ]) {
    await stack.inbound(`${n}@c.us`, text);
  }
  for (const n of ["447700900102", "447700900103"]) {
    await stack.api("POST", `/api/conversations/${await conversationOf(`${n}@c.us`)}/assign`, { assignee_id: sam.id });
  }
  await expect.poll(() => row(board, sam.id).getByTestId("member-open").textContent()).toContain("full");
  // A second number with its own queue appears on the board as it fills.
  await stack.api("PATCH", "/api/sessions/support", { auto_assign: false });
  await stack.inbound("447700900201@c.us", "Hola, ¿tienen tienda en Madrid?", { session: "support" });
  await expect.poll(() => board.getByTestId("queue-support").getByTestId("queue-unassigned").textContent()).toContain("1");
  await expect.poll(() => queue.getByTestId("queue-unassigned").textContent()).toContain("2");
  // Today's strip counts the six customers' messages once the hub's projection has them.
  await expect.poll(() => board.getByTestId("today-in").textContent(), { timeout: 20_000 }).toBe("6");
  // Every change above arrived over the socket: the board was read once.
  expect(reads.dashboard).toBe(0);
  await board.mouse.move(640, 760);
  await screenshot(board, "board");
  expect(await fitsPhone(board)).toBe(true);
  await board.setViewportSize({ width: 1280, height: 800 });
  await Promise.all([boss.close(), agentCtx.close(), samCtx.close()]);
});
