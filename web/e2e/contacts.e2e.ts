import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { withStack, screenshot, signIn } from "./browser";
import { ADMIN, type Stack } from "./stack";

let stack: Stack;
let browser: Browser;

withStack((s, b) => ([stack, browser] = [s, b]));

const contact = (phone: string, name: string, extra: Record<string, unknown> = {}) =>
  stack.api<{ id: number }>("POST", "/api/contacts", { session: "default", phone, name, ...extra });

const rows = (page: Page) => page.getByTestId("contact-row");
const rowNames = async (page: Page) => (await rows(page).locator("td[data-label=Name] a").allTextContents()).sort();

/** The app's own links (the hub serves the app at the paths it routes; these are reached by clicking). */
async function openContacts(page: Page, tab?: "Segments" | "Import") {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByTestId("contacts").waitFor();
  if (tab) await page.getByRole("navigation", { name: "Contacts" }).getByRole("link", { name: tab }).click();
}

test("contacts: the list filters in the hub, a segment's live count follows edits and new contacts, a contact is edited", async () => {
  await stack.api("POST", "/api/contact-attributes", { name: "plan", label: "Plan", type: "choice", choices: ["gold", "silver"] });
  await contact("+447700900101", "Ana Alvarez", { tags: ["vip"], type: "customer", lifetime_spend: 120, attributes: { plan: "gold" } });
  await contact("+447700900102", "Ben Brown", { tags: ["newsletter"], type: "lead", lifetime_spend: 10 });
  await contact("+447700900103", "Cara Cole", { tags: ["vip"], type: "lead" });

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openContacts(page);
  await expect.poll(() => rowNames(page)).toEqual(["Ana Alvarez", "Ben Brown", "Cara Cole"]);

  // Filters go to the hub: a tag, then a tag and a spend range, a text search, an attribute.
  const filters = page.getByRole("form", { name: "Filter contacts" });
  await filters.getByLabel("Tag").fill("vip");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => rowNames(page)).toEqual(["Ana Alvarez", "Cara Cole"]);
  await filters.getByLabel("Spend from").fill("100");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => rowNames(page)).toEqual(["Ana Alvarez"]);
  await filters.getByRole("button", { name: "Clear" }).click();
  await filters.getByLabel("Search").fill("brown");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => rowNames(page)).toEqual(["Ben Brown"]);
  await filters.getByRole("button", { name: "Clear" }).click();
  await filters.getByLabel("Attribute").selectOption("plan");
  await filters.getByLabel("Plan is").selectOption("gold");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => rowNames(page)).toEqual(["Ana Alvarez"]);

  // The segment builder: the count follows each clause as it is typed.
  await openContacts(page, "Segments");
  const builder = page.getByRole("form", { name: "New segment" });
  const count = builder.getByTestId("live-count");
  await expect.poll(() => count.textContent()).toBe("3 contacts");
  await builder.getByLabel("Clause 1 value").fill("vip");
  await expect.poll(() => count.textContent()).toBe("2 contacts");
  await builder.getByRole("button", { name: "+ Add clause" }).click();
  await builder.getByLabel("Clause 2 field").selectOption({ label: "Type" });
  await builder.getByLabel("Clause 2 value").fill("lead");
  await expect.poll(() => count.textContent()).toBe("1 contact");
  // A contact the clauses hold, created elsewhere: the count moves without an edit here.
  await contact("+447700900104", "Dora Diaz", { tags: ["vip"], type: "lead" });
  await expect.poll(() => count.textContent()).toBe("2 contacts");
  // Another field: the count follows; a value the hub refuses is its 422, on the clause it names.
  await builder.getByLabel("Clause 2 field").selectOption({ label: "Attribute: Plan" });
  await builder.getByLabel("Clause 2 value").selectOption("silver");
  await expect.poll(() => count.textContent()).toBe("0 contacts");
  await builder.getByLabel("Clause 2 field").selectOption({ label: "Last interaction" });
  await builder.getByLabel("Clause 2 value").fill("99999");
  await builder.getByTestId("clause-error-2").waitFor();
  expect(await builder.getByTestId("clause-error-2").textContent()).toMatch(/36500/);
  expect(await count.textContent()).toBe("No count");
  await builder.getByLabel("Clause 2 op").selectOption({ label: "not within the last (days)" });
  await builder.getByLabel("Clause 2 value").fill("30");
  await expect.poll(() => count.textContent()).toBe("3 contacts");
  expect(await builder.getByTestId("clause-error-2").count()).toBe(0);
  await builder.getByLabel("Clause 2 field").selectOption({ label: "Type" });
  await builder.getByLabel("Clause 2 op").selectOption({ label: "is" });
  await builder.getByLabel("Clause 2 value").fill("lead");
  await expect.poll(() => count.textContent()).toBe("2 contacts");
  await builder.getByLabel("Segment name").fill("VIP leads");
  await builder.getByRole("button", { name: "Create segment" }).click();
  const saved = page.getByTestId("segment-row").filter({ hasText: "VIP leads" });
  await expect.poll(() => saved.getByTestId("segment-count").textContent()).toBe("2");
  const segments = await stack.api<{ items: { id: number; filter: unknown }[] }>("GET", "/api/segments");
  expect(segments.items.map((s) => s.filter)).toEqual([
    {
      all: [
        { field: "tags", op: "contains", value: "vip" },
        { field: "type", op: "eq", value: "lead" },
      ],
    },
  ]);
  // The saved segment's count is live too: a contact leaves it.
  const cara = (await stack.api<{ items: { id: number; name: string }[] }>("GET", "/api/contacts?q=Cara")).items[0];
  await stack.api("PATCH", `/api/contacts/${cara.id}`, { type: "customer" });
  await expect.poll(() => saved.getByTestId("segment-count").textContent()).toBe("1");
  await screenshot(page, "contacts-segments");

  // A contact's page: its profile edited; the hub's 422 lands on its field.
  await openContacts(page);
  await rows(page).getByRole("link", { name: "Ana Alvarez" }).click();
  await page.getByTestId("contact-page").waitFor();
  expect(await page.getByTestId("contact-phone").textContent()).toBe("+447700900101");
  const profile = page.getByRole("form", { name: "Profile" });
  await profile.getByLabel("Email").fill("not an email");
  await profile.getByRole("button", { name: "Save contact" }).click();
  await profile.getByTestId("error-email").waitFor();
  await profile.getByLabel("Email").fill("ana@example.com");
  await profile.getByLabel("Tags (comma-separated)").fill("vip, returning");
  await profile.getByLabel("Plan").selectOption("silver");
  // (A select's label reads with its chosen option: "Consent never asked".)
  await profile.locator("[data-field=consent] select").selectOption("opted_out");
  await profile.getByLabel("Consent source").fill("call");
  await profile.getByRole("button", { name: "Save contact" }).click();
  await profile.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  const ana = (await stack.api<{ items: any[] }>("GET", "/api/contacts?q=Ana")).items[0];
  expect(ana).toMatchObject({
    email: "ana@example.com",
    tags: ["returning", "vip"],
    attributes: { plan: "silver" },
    consent: "opted_out",
    consent_source: "call",
    opted_out: true,
  });
  expect(await profile.getByTestId("error-email").count()).toBe(0);
  await ctx.close();
});

test("an agent reads contacts and their page but edits nothing and imports nothing", async () => {
  const agent = await stack.member("agent@example.com", "Ari Agent", "agent");
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(ctx, stack.hub, "agent@example.com", ADMIN.password);
  await openContacts(page);
  await expect.poll(() => rows(page).count()).toBeGreaterThan(0);
  expect(await page.getByRole("navigation", { name: "Contacts" }).getByRole("link", { name: "Import" }).count()).toBe(0);
  await rows(page).getByRole("link", { name: "Ben Brown" }).click();
  const profile = page.getByRole("form", { name: "Profile" });
  await profile.getByText("Agents read contacts but do not edit them.").waitFor();
  expect(await profile.getByLabel("Name").isDisabled()).toBe(true);
  expect(await profile.getByRole("button", { name: "Save contact" }).count()).toBe(0);
  // What the page does not offer, the hub refuses too.
  const id = Number(new URL(page.url()).pathname.split("/").pop());
  await expect(stack.api("PATCH", `/api/contacts/${id}`, { name: "x" }, agent.token)).rejects.toThrow(/403/);
  await ctx.close();
});

test("a CSV import: preview, mapping, a progress bar, and the counts and row errors of good, bad and duplicate rows", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openContacts(page, "Import");
  const wizard = page.getByRole("region", { name: "Import contacts" });
  const csv = [
    "Phone,Full name,tags,plan,Unused",
    "+447700900201,Eve Evans,imported,gold,x",
    "not a number,Fred Fox,imported,,x",
    "+447700900102,Ben Again,imported,,x",
    "+447700900202,Gina Green,imported,platinum,x",
    '+447700900203,"Hal, the second",imported;vip,silver,x',
  ].join("\n");
  await wizard.getByLabel("Or paste the CSV").fill(csv);
  await wizard.getByLabel("Skip the row").check();
  await wizard.getByRole("button", { name: "Next: columns" }).click();
  expect(await wizard.getByTestId("preview-row").count()).toBe(5);
  // Phone, tags and the declared attribute map by their names; the rest is chosen here.
  expect(await wizard.getByLabel("Column Phone maps to").inputValue()).toBe("phone");
  expect(await wizard.getByLabel("Column plan maps to").inputValue()).toBe("attr.plan");
  expect(await wizard.getByLabel("Column Unused maps to").inputValue()).toBe("");
  await wizard.getByLabel("Column Full name maps to").selectOption("name");
  await wizard.getByRole("button", { name: "Import 5 rows" }).click();

  const counts = wizard.getByTestId("import-counts");
  await expect.poll(() => counts.getAttribute("data-status"), { timeout: 20_000 }).toBe("completed");
  expect(await counts.textContent()).toBe("Done: 2 created · 0 updated · 1 skipped · 2 with errors");
  expect(await wizard.getByTestId("import-progress").evaluate((p: HTMLProgressElement) => p.value)).toBe(1);
  const errors = await wizard.getByTestId("row-error").evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
  );
  expect(errors.map(([line, field]) => [line, field])).toEqual([
    ["3", "phone"],
    ["5", "attr.plan"],
  ]);
  await screenshot(page, "contacts-import");

  const imported = await stack.api<{ items: any[] }>("GET", "/api/contacts?tag=imported");
  expect(imported.items.map((c) => [c.name, c.attributes.plan ?? null]).sort()).toEqual([
    ["Eve Evans", "gold"],
    ["Hal, the second", "silver"],
  ]);
  const ben = (await stack.api<{ items: any[] }>("GET", "/api/contacts?q=Ben")).items;
  expect(ben.map((c) => c.name)).toEqual(["Ben Brown"]);
  await ctx.close();
});
