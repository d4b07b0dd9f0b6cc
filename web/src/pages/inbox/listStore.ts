// The conversation list as the inbox holds it: sorted newest activity first, indexed by id,
// paged in by cursor, and kept current by events. An event moves one row with a binary
// search and a splice, so 10,000 rows cost O(log n) comparisons per event, not a re-sort.

import { signal } from "@preact/signals";
import type { Conversation } from "../../api/types";
import type { ListFilter } from "./types";

/** Newest activity first; the id breaks ties the way the API's cursor does. */
export const before = (a: Conversation, b: Conversation) =>
  a.last_message_at !== b.last_message_at ? a.last_message_at > b.last_message_at : a.id > b.id;

/** Whether a conversation belongs in the view, as far as its own fields tell. */
export function matches(c: Conversation, f: ListFilter, meId: number): boolean | "unknown" {
  if (f.view === "mine" && c.assignee_id !== meId) return false;
  if (f.view === "unassigned" && c.assignee_id !== null) return false;
  if (f.session && c.session !== f.session) return false;
  if (f.status && !f.status.split(",").includes(c.status)) return false;
  // Tags and message text are not carried by the event: only the server can tell.
  if (f.tag) return "unknown";
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = `${c.title ?? ""} ${c.chat_id} ${c.last_message_preview ?? ""}`.toLowerCase();
    return hay.includes(q) ? true : "unknown";
  }
  return true;
}

export class ConversationList {
  items: Conversation[] = [];
  private byId = new Map<number, Conversation>();
  /** Bumped on every change so components re-render. */
  readonly version = signal(0);
  cursor: string | null = null;
  done = false;

  get size() {
    return this.items.length;
  }

  get(id: number) {
    return this.byId.get(id);
  }

  reset(items: Conversation[] = [], cursor: string | null = null) {
    this.items = [];
    this.byId.clear();
    this.cursor = cursor;
    this.done = cursor === null;
    this.appendPage(items, cursor);
  }

  /** A further page. A row already here came (or moved) by an event while the page was on
   *  its way, so the event's version is kept, not the page's possibly older one. */
  appendPage(items: Conversation[], cursor: string | null) {
    for (const c of items) if (!this.byId.has(c.id)) this.place(c);
    this.cursor = cursor;
    this.done = cursor === null;
    this.bump();
  }

  /** An updated conversation: moved to its place, or dropped when it left the view. */
  upsert(c: Conversation, belongs: boolean | "unknown") {
    const had = this.byId.has(c.id);
    if (belongs === false) {
      if (had) this.remove(c.id);
      return;
    }
    // A row we cannot judge joins only if it was already shown (it matched before).
    if (belongs === "unknown" && !had) return;
    if (had) this.remove(c.id, false);
    const at = this.indexFor(c);
    // Past the loaded end while pages remain: the page that covers it will bring it.
    if (at === this.items.length && !this.done) {
      this.bump();
      return;
    }
    this.items.splice(at, 0, c);
    this.byId.set(c.id, c);
    this.bump();
  }

  /** Only the preview and time of a row (a message in it). */
  patch(id: number, f: (c: Conversation) => Conversation) {
    const c = this.byId.get(id);
    if (c) this.upsert(f(c), true);
  }

  remove(id: number, notify = true) {
    const c = this.byId.get(id);
    if (!c) return;
    const i = this.indexOf(c);
    if (i >= 0) this.items.splice(i, 1);
    this.byId.delete(id);
    if (notify) this.bump();
  }

  indexOf(c: Conversation): number {
    // Binary search by the stored row's key, then confirm the id (ties share a key only
    // when ids are equal, since the id is part of the key).
    const i = this.indexFor(c);
    if (this.items[i]?.id === c.id) return i;
    return this.items.findIndex((x) => x.id === c.id);
  }

  /** The first index whose row sorts after `c`. */
  private indexFor(c: Conversation): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid]!;
      if (m.id !== c.id && before(m, c)) lo = mid + 1;
      else if (m.id === c.id) return mid;
      else hi = mid;
    }
    return lo;
  }

  private place(c: Conversation) {
    this.items.splice(this.indexFor(c), 0, c);
    this.byId.set(c.id, c);
  }

  private bump() {
    this.version.value++;
  }
}
