// Loads the conversation list for a filter and keeps it current from the socket.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get, type Page } from "../../api/http";
import { isSupervisor, type Conversation, type Counts, type Message } from "../../api/types";
import { live, me } from "../../state/session";
import { ConversationList, matches } from "./listStore";
import { markListPainted } from "./perf";
import type { ListFilter } from "./types";

const PAGE = 50;

const supervisor = () => !!me.value && isSupervisor(me.value.role);

export function queryFor(f: ListFilter, meId: number) {
  return {
    assignee_id: f.view === "mine" ? meId : undefined,
    unassigned: f.view === "unassigned" ? true : undefined,
    session: f.session || undefined,
    status: f.status || undefined,
    tag: f.tag || undefined,
    q: f.q || undefined,
  };
}

export function useInboxList(filter: ListFilter) {
  const store = useMemo(() => new ConversationList(), []);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // A newer load makes an older one's answer stale.
  const gen = useRef(0);
  const paging = useRef(false);
  const filterRef = useRef(filter);
  filterRef.current = filter;
  const meId = me.value?.id ?? -1;

  async function load() {
    const g = ++gen.current;
    setLoading(true);
    setError(null);
    try {
      const page = await get<Page<Conversation>>("/api/conversations", {
        ...queryFor(filterRef.current, meId),
        limit: PAGE,
      });
      if (g !== gen.current) return;
      store.reset(page.items, page.next_cursor);
      markListPainted(page.items.length);
    } catch (e) {
      if (g === gen.current) setError((e as Error).message);
    } finally {
      if (g === gen.current) setLoading(false);
    }
  }

  async function loadMore() {
    if (store.done || paging.current || !store.cursor) return;
    const g = gen.current;
    paging.current = true;
    setLoading(true);
    try {
      const page = await get<Page<Conversation>>("/api/conversations", {
        ...queryFor(filterRef.current, meId),
        limit: PAGE,
        cursor: store.cursor,
      });
      if (g === gen.current) store.appendPage(page.items, page.next_cursor);
    } catch (e) {
      if (g === gen.current) setError((e as Error).message);
    } finally {
      paging.current = false;
      if (g === gen.current) setLoading(false);
    }
  }

  async function loadCounts() {
    try {
      setCounts(await get<Counts>("/api/conversations/counts"));
    } catch {
      /* counts.updated will bring them */
    }
  }

  useEffect(() => {
    void load();
  }, [filter.view, filter.session, filter.status, filter.tag, filter.q, meId]);

  useEffect(() => {
    void loadCounts();
    const offs = [
      live.on("conversation.updated", (f) => {
        const c = f.data as Conversation;
        store.upsert(c, matches(c, filterRef.current, meId));
      }),
      live.on("conversation.removed", (f) => {
        // The hub also tells a supervisor who handed a conversation on, though they still
        // see it: for them the conversation.updated that comes with it decides.
        if (!supervisor()) store.remove(f.data.conversation_id);
      }),
      live.on("message.created", (f) => {
        const m = f.data as Message;
        store.patch(m.conversation_id, (c) => ({
          ...c,
          last_message_preview: m.revoked ? c.last_message_preview : m.text || c.last_message_preview,
          last_message_at: Math.max(c.last_message_at, m.created_at),
        }));
      }),
      live.on("counts.updated", (f) => setCounts(f.data as Counts)),
      live.on("resync", () => {
        void load();
        void loadCounts();
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [meId]);

  return { store, counts, error, loading, loadMore, reload: load };
}
