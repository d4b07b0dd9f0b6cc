import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { parseCsv } from "../src/pages/contacts/csv";
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

/** What a click on a download link saves, as text. */
async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: readFileSync(path!, "utf8") };
}

/** The `name` column of an exported CSV (the app's own parser: names hold commas and quotes). */
const csvNames = (text: string) =>
  parseCsv(text)
    .slice(1)
    .map((r) => r.cells[1])
    .sort();

test("duplicates merge after a confirmation; a contact's data downloads and is erased after typing its number; segments and the list export CSV", async () => {
  await contact("+447700900301", "Dup One", { email: "dup@example.com", tags: ["dup"] });
  await contact("+447700900302", "Dup Two", { email: "DUP@example.com", tags: ["dup", "late"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);

  // The suggestion list: the two share an email (in another case); the oldest is kept by default.
  await openContacts(page);
  await page.getByRole("navigation", { name: "Contacts" }).getByRole("link", { name: "Duplicates" }).click();
  const group = page.locator('[data-testid=duplicate-group][data-key="email:dup@example.com"]');
  await expect.poll(() => group.getByTestId("duplicate-contact").count()).toBe(2);
  await group.getByRole("button", { name: "Merge into Dup One…" }).click();
  const dialog = page.getByRole("dialog", { name: "Merge contacts" });
  expect(await dialog.textContent()).toMatch(/Merge Dup Two into Dup One\?/);
  await screenshot(page, "contacts-duplicates");
  await dialog.getByRole("button", { name: "Merge" }).click();
  await page.getByRole("status").filter({ hasText: "Merged into Dup One." }).waitFor();
  // The list is read again after the merge: the group goes once that answer is in.
  await expect.poll(() => group.count()).toBe(0);
  const dups = (await stack.api<{ items: any[] }>("GET", "/api/contacts?tag=dup")).items;
  expect(dups.map((c) => [c.name, c.tags])).toEqual([["Dup One", ["dup", "late"]]]);

  // The kept contact's page: everything held, as a JSON file; then erased, once its number is typed.
  await openContacts(page);
  await page.getByRole("form", { name: "Filter contacts" }).getByLabel("Search").fill("Dup One");
  await page.getByRole("form", { name: "Filter contacts" }).getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => rowNames(page)).toEqual(["Dup One"]);
  await rows(page).getByRole("link", { name: "Dup One" }).click();
  const privacy = page.getByRole("region", { name: "Personal data" });
  const json = await download(page, () => privacy.getByRole("link", { name: "Download data (JSON)" }).click());
  expect(json.name).toBe(`contact-${dups[0].id}.json`);
  expect(JSON.stringify(JSON.parse(json.text))).toContain("Dup One");
  await privacy.getByRole("button", { name: "Erase…" }).click();
  const erase = page.getByRole("dialog", { name: "Erase personal data" });
  expect(await erase.getByRole("button", { name: "Erase" }).isDisabled()).toBe(true);
  await erase.getByLabel("Type +447700900301 to confirm").fill("+447700900301");
  await screenshot(page, "contacts-erase");
  await erase.getByRole("button", { name: "Erase" }).click();
  await page.getByTestId("contact-erased").waitFor();
  const gone = await stack.api<any>("GET", `/api/contacts/${dups[0].id}`);
  expect([gone.name, gone.phone, gone.email, gone.erased_at > 0]).toEqual([null, null, null, true]);

  // A segment's CSV from its row; the list's CSV with the filters applied.
  const seg = await stack.api<{ id: number }>("POST", "/api/segments", {
    name: "Export VIPs",
    filter: { all: [{ field: "tags", op: "contains", value: "vip" }] },
  });
  await openContacts(page, "Segments");
  const segCsv = await download(page, () => page.getByRole("link", { name: "Export segment Export VIPs as CSV" }).click());
  expect(segCsv.name).toBe(`segment-${seg.id}.csv`);
  expect(segCsv.text.split("\n")[0]).toMatch(/^phone,name,email,type,tags,notes,lifetime_spend/);
  const vips = (await stack.api<{ items: any[] }>("GET", "/api/contacts?tag=vip&limit=200")).items.map((c) => c.name).sort();
  expect(vips.length).toBeGreaterThan(0);
  expect(csvNames(segCsv.text)).toEqual(vips);
  await openContacts(page);
  await page.getByRole("form", { name: "Filter contacts" }).getByLabel("Tag").fill("vip");
  await page.getByRole("form", { name: "Filter contacts" }).getByLabel("Type").selectOption("lead");
  await page.getByRole("form", { name: "Filter contacts" }).getByRole("button", { name: "Filter" }).click();
  const listed = (await stack.api<{ items: any[] }>("GET", "/api/contacts?tag=vip&type=lead&limit=200")).items.map((c) => c.name).sort();
  expect(listed.length).toBeGreaterThan(0);
  await expect.poll(() => rowNames(page)).toEqual(listed);
  const listCsv = await download(page, () => page.getByTestId("export-list").click());
  expect(listCsv.name).toBe("contacts.csv");
  expect(csvNames(listCsv.text)).toEqual(listed);
  await ctx.close();
});

test("contact types and attributes are managed on the settings page; an agent has no settings, merge or erase", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openContacts(page);
  await page.getByRole("navigation", { name: "Contacts" }).getByRole("link", { name: "Settings" }).click();
  const types = page.getByRole("form", { name: "New contact type" });
  await types.getByLabel("Name").fill("partner");
  await types.getByLabel("Label").fill("Partner");
  await types.getByRole("button", { name: "Add type" }).click();
  await page.locator("[data-testid=type-row][data-name=partner]").waitFor();
  const attrs = page.getByRole("form", { name: "New attribute" });
  await attrs.getByLabel("Name").fill("tier");
  await attrs.getByLabel("Type").selectOption("choice");
  await attrs.getByLabel("Choices (comma-separated)").fill("bronze, gold");
  await attrs.getByRole("button", { name: "Add attribute" }).click();
  await page.locator("[data-testid=attribute-row][data-name=tier]").waitFor();
  const declared = await stack.api<{ items: any[] }>("GET", "/api/contact-attributes");
  expect(declared.items.find((a) => a.name === "tier")).toMatchObject({ type: "choice", choices: ["bronze", "gold"] });
  expect((await stack.api<{ items: any[] }>("GET", "/api/contact-types")).items.map((t) => t.name)).toContain("partner");
  await screenshot(page, "contacts-settings");
  await ctx.close();

  await stack.member("agent2@example.com", "Agnes Agent", "agent");
  const actx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const apage = await signIn(actx, stack.hub, "agent2@example.com", ADMIN.password);
  await openContacts(apage);
  const tabs = apage.getByRole("navigation", { name: "Contacts" });
  expect(await tabs.getByRole("link", { name: "Settings" }).count()).toBe(0);
  expect(await apage.getByTestId("export-list").count()).toBe(0);
  await tabs.getByRole("link", { name: "Duplicates" }).click();
  await apage.getByRole("region", { name: "Probable duplicates" }).waitFor();
  expect(await apage.getByRole("button", { name: /^Merge into/ }).count()).toBe(0);
  await openContacts(apage);
  await rows(apage).getByRole("link", { name: "Ben Brown" }).click();
  await apage.getByRole("form", { name: "Profile" }).waitFor();
  expect(await apage.getByRole("region", { name: "Personal data" }).count()).toBe(0);
  await actx.close();
});

test("the segment builder nests an any-of group inside all; its count is the hub's for the nested filter, and it saves as one", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await signIn(ctx, stack.hub, ADMIN.email, ADMIN.password);
  await openContacts(page, "Segments");
  const builder = page.getByRole("form", { name: "New segment" });
  await builder.getByLabel("Clause 1 value").fill("vip");
  await builder.getByRole("button", { name: "+ Add an any-of group" }).click();
  await builder.getByLabel("Clause 2.1 field").selectOption({ label: "Type" });
  await builder.getByLabel("Clause 2.1 value").fill("lead");
  await builder.getByRole("button", { name: "+ Add clause to group 2" }).click();
  await builder.getByLabel("Clause 2.2 field").selectOption({ label: "Lifetime spend" });
  await builder.getByLabel("Clause 2.2 value").fill("100");
  const filter = {
    all: [
      { field: "tags", op: "contains", value: "vip" },
      {
        any: [
          { field: "type", op: "eq", value: "lead" },
          { field: "lifetime_spend", op: "gte", value: 100 },
        ],
      },
    ],
  };
  const { count } = await stack.api<{ count: number }>("POST", "/api/segments/preview", { filter });
  const flat = await stack.api<{ count: number }>("POST", "/api/segments/preview", { filter: { all: [filter.all[0]] } });
  expect(count).toBeLessThan(flat.count);
  await expect.poll(() => builder.getByTestId("live-count").textContent()).toBe(`${count} contact${count === 1 ? "" : "s"}`);
  await builder.getByLabel("Segment name").fill("VIP leads or big spenders");
  await builder.getByRole("button", { name: "Create segment" }).click();
  const saved = page.getByTestId("segment-row").filter({ hasText: "VIP leads or big spenders" });
  await expect.poll(() => saved.getByTestId("segment-count").textContent()).toBe(String(count));
  const all = await stack.api<{ items: { name: string; filter: unknown }[] }>("GET", "/api/segments");
  expect(all.items.find((s) => s.name === "VIP leads or big spenders")!.filter).toEqual(filter);
  // Opened again, the group is back in the builder.
  await saved.getByRole("button", { name: "VIP leads or big spenders", exact: true }).click();
  const edit = page.getByRole("form", { name: "Edit segment VIP leads or big spenders" });
  expect(await edit.getByLabel("Group 2 join").inputValue()).toBe("any");
  expect(await edit.getByLabel("Clause 2.2 value").inputValue()).toBe("100");
  await ctx.close();
});
