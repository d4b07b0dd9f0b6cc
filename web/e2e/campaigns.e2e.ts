import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { screenshot, signIn, withStack } from "./browser";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

// Sends as fast as the campaign asks: the test waits for the bar, not for the pace.
withStack((s, b) => ([stack, browser] = [s, b]), { TICKHUB_SEND_RATE: "20" });

const contact = (phone: string, name: string | null, extra: Record<string, unknown> = {}) =>
  stack.api<{ id: number }>("POST", "/api/contacts", { session: "default", phone, ...(name ? { name } : {}), ...extra });

async function sentTexts(): Promise<Record<string, string[]>> {
  const res = await fetch(`${stack.sim}/sim/sent`);
  const all = (await res.json()) as { chatId: string; text: string }[];
  const out: Record<string, string[]> = {};
  for (const m of all) (out[m.chatId] ??= []).push(m.text);
  return out;
}

async function openCampaigns(page: Page, tab?: "New campaign" | "Templates") {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByTestId("campaigns").waitFor();
  if (tab) await page.getByRole("navigation", { name: "Campaigns" }).getByRole("link", { name: tab }).click();
}

test("a campaign built from a segment in the browser: live audience, preview, start, the bar to completed, the report", async () => {
  await contact("+447700900301", "Ana Alvarez", { tags: ["promo"] });
  await contact("+447700900302", "Ben Brown", { tags: ["promo"] });
  await contact("+447700900303", null, { tags: ["promo"] });
  await contact("+447700900304", "Olga Out", { tags: ["promo"], opted_out: true });
  await contact("+447700900305", "Nina Other", { tags: ["other"] });
  await stack.api("POST", "/api/segments", { name: "Promo", filter: { all: [{ field: "tags", op: "contains", value: "promo" }] } });
  await stack.api("POST", "/api/templates", { name: "Promo text", body: 'Hi {{contact.first_name | "there"}}, 20% off today' });
  // Marketing builds campaigns (and has no inbox).
  await stack.member("mia@example.com", "Mia Marketing", "marketing");

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await signIn(ctx, stack.hub, "mia@example.com", ADMIN.password);
  await openCampaigns(page, "New campaign");
  const form = page.getByRole("form", { name: "New campaign" });
  await form.getByLabel("Campaign name").fill("December promo");
  await form.getByLabel("Segment", { exact: true }).selectOption({ label: "Promo" });
  // The hub's live count: the opted-out contact is counted as skipped.
  const audience = form.getByTestId("audience-count");
  await expect.poll(() => audience.textContent()).toBe("3 will receive it · of 4: 1 opted out");
  await form.getByLabel("Saved template").selectOption({ label: "Promo text" });
  expect(await form.getByLabel("Message text").inputValue()).toBe('Hi {{contact.first_name | "there"}}, 20% off today');
  // The preview is the hub's rendering for a real contact: a name, then the fallback.
  const preview = form.getByTestId("template-preview");
  await form.getByLabel("Preview for").selectOption({ label: "Ana Alvarez" });
  await expect.poll(() => preview.textContent()).toBe("Hi Ana, 20% off today");
  await form.getByLabel("Preview for").selectOption({ label: "+447700900303" });
  await expect.poll(() => preview.textContent()).toBe("Hi there, 20% off today");
  await form.getByLabel("Messages per minute").fill("600");
  await form.getByLabel("Jitter (0–0.9)").fill("0");
  await form.getByRole("button", { name: "Save draft" }).click();

  const campaignPage = page.getByTestId("campaign-page");
  await campaignPage.waitFor();
  const id = Number(await campaignPage.getAttribute("data-id"));
  expect(await page.getByTestId("campaign-status").textContent()).toBe("Draft");
  const saved = await stack.api<any>("GET", `/api/campaigns/${id}`);
  expect(saved).toMatchObject({ name: "December promo", status: "draft", rate_per_minute: 600, jitter: 0 });
  expect(saved.template).toBe('Hi {{contact.first_name | "there"}}, 20% off today');

  await page.getByRole("button", { name: "Start" }).click();
  const bar = page.getByTestId("campaign-progress");
  // The bar moves with campaign.progress over the websocket until the campaign completes.
  await expect.poll(() => bar.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  expect(await bar.getAttribute("aria-valuenow")).toBe("100");
  expect(await page.getByTestId("campaign-status").textContent()).toBe("Completed");

  // Each eligible contact got its own text once; the opted-out one nothing.
  const sent = await sentTexts();
  expect(sent["447700900301@c.us"]).toEqual(["Hi Ana, 20% off today"]);
  expect(sent["447700900302@c.us"]).toEqual(["Hi Ben, 20% off today"]);
  expect(sent["447700900303@c.us"]).toEqual(["Hi there, 20% off today"]);
  expect(sent["447700900304@c.us"]).toBeUndefined();
  expect(sent["447700900305@c.us"]).toBeUndefined();

  // The report: what was sent, the hourly chart, and the recipients as CSV.
  const report = page.getByTestId("campaign-report");
  await expect.poll(() => report.getByTestId("figure-sent").locator("dd").textContent(), { timeout: 10_000 }).toBe("3");
  await report.getByTestId("report-chart").waitFor();
  const href = await report.getByTestId("recipients-csv").getAttribute("href");
  expect(href).toBe(`/api/campaigns/${id}/recipients?format=csv`);
  const csv = await page.evaluate(async (u) => (await fetch(u!, { credentials: "same-origin" })).text(), href);
  for (const phone of ["+447700900301", "+447700900302", "+447700900303"]) expect(csv).toContain(phone);
  await screenshot(page, "campaign-report");
  // The hub serves the app at a campaign's address: a reload lands on the same page.
  await page.reload();
  await page.getByTestId("campaign-page").and(page.locator(`[data-id="${id}"]`)).waitFor();
  expect(await page.getByTestId("campaign-status").textContent()).toBe("Completed");

  // The list shows it completed, with a full bar.
  await openCampaigns(page);
  const row = page.getByTestId("campaign-row").filter({ hasText: "December promo" });
  expect(await row.getByTestId("campaign-status").textContent()).toBe("Completed");
  expect(await row.getByTestId("campaign-progress").getAttribute("aria-valuenow")).toBe("100");
  await ctx.close();
});

test("an uploaded list as the audience: its counts and the rows left out shown, then each number messaged once", async () => {
  await contact("+447700900401", "Known Kim");
  await contact("+447700900402", "Stop Sam", { opted_out: true });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openCampaigns(page, "New campaign");
  const form = page.getByRole("form", { name: "New campaign" });
  await form.getByLabel("Campaign name").fill("Listed");
  await form.getByLabel("Upload a list").check();
  const csv = "phone,name,attr.code\n+447700900401,Kim,K1\n+447700900402,Sam,S1\n+447700900403,Lee,L1\nnot a number,X,X\n+447700900403,Lee,L1\n";
  await form.getByLabel("CSV list").setInputFiles({ name: "list.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await form.getByLabel("Message text").fill("Hi {{contact.name}}, code {{contact.code}}");
  await form.getByLabel("Messages per minute").fill("600");
  await form.getByRole("button", { name: "Save draft" }).click();
  const result = form.getByTestId("upload-result");
  await expect.poll(() => result.locator("p").textContent()).toBe("3 contacts from 5 rows: 1 new, 1 repeated, 1 row left out");
  expect(await result.locator("li").allTextContents()).toEqual([expect.stringMatching(/^line 5: phone: /)]);
  expect(await form.getByTestId("audience-count").textContent()).toBe("2 will receive it · of 3: 1 opted out");
  await form.getByRole("button", { name: "Save draft" }).click();
  const campaignPage = page.getByTestId("campaign-page");
  await campaignPage.waitFor();
  expect(await page.getByTestId("campaign-audience").textContent()).toBe("3 contact ids");
  await page.getByRole("button", { name: "Start" }).click();
  await expect.poll(() => page.getByTestId("campaign-progress").getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  const sent = await sentTexts();
  expect(sent["447700900401@c.us"]).toEqual(["Hi Kim, code K1"]);
  expect(sent["447700900403@c.us"]).toEqual(["Hi Lee, code L1"]);
  expect(sent["447700900402@c.us"]).toBeUndefined();
  await ctx.close();
});

test("templates are written in the browser, a bad fallback named before saving; agents have no campaigns", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openCampaigns(page, "Templates");
  const form = page.getByRole("form", { name: "New template" });
  await form.getByLabel("Template name").fill("Welcome");
  await form.getByLabel("Template text").fill('Welcome {{contact.first_name | "friend}}');
  expect(await form.getByTestId("error-body").textContent()).toBe('unclosed " at 31');
  await form.getByLabel("Template text").fill('Welcome {{contact.first_name | "friend"}}');
  await form.getByRole("button", { name: "Create template" }).click();
  await page.getByTestId("template-row").filter({ hasText: "Welcome" }).waitFor();
  const all = await stack.api<{ items: { name: string; body: string }[] }>("GET", "/api/templates");
  expect(all.items.find((t) => t.name === "Welcome")?.body).toBe('Welcome {{contact.first_name | "friend"}}');
  await ctx.close();

  const agent = await stack.member("ari@example.com", "Ari Agent", "agent");
  const actx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const apage = await signIn(actx, stack.hub, "ari@example.com", ADMIN.password);
  expect(await apage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).count()).toBe(0);
  await apage.goto(`${stack.hub}/campaigns`);
  await expect.poll(() => new URL(apage.url()).pathname, { timeout: 10_000 }).toBe("/inbox");
  await expect(stack.api("GET", "/api/templates", undefined, agent.token)).rejects.toThrow(/403/);
  await expect(stack.api("GET", "/api/campaigns", undefined, agent.token)).rejects.toThrow(/403/);
  await actx.close();
});
