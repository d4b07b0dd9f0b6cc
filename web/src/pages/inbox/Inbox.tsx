// The agents' inbox: the list, the open thread with its composer, and the side panel.
// `/inbox/:id` opens a conversation; on a phone the list and the thread take turns.

import { useEffect, useRef, useState } from "preact/hooks";
import { get, getAll } from "../../api/http";
import { isSupervisor, type Conversation } from "../../api/types";
import { navigate } from "../../lib/router";
import { live, me } from "../../state/session";
import { markRead, resolve } from "./actions";
import { Composer } from "./Composer";
import { ACTIVE, ConversationListPane, titleOf } from "./ConversationList";
import "./inbox.css";
import { loadMembers, loadSessionMembers, memberName } from "./members";
import { useKeyboard } from "./useKeyboard";
import { Thread } from "./Thread";
import { SidePanel } from "./SidePanel";
import type { ConversationDetail, ListFilter, SessionInfo } from "./types";
import { useInboxList } from "./useInboxList";
import { useThread } from "./useThread";

export function Inbox({ params }: { params: Record<string, string> }) {
  const user = me.value!;
  const openId = params.id && /^\d+$/.test(params.id) ? Number(params.id) : null;
  const [filter, setFilter] = useState<ListFilter>({ view: "all", session: "", status: ACTIVE, tag: "", q: "" });
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [gone, setGone] = useState<string | null>(null);
  const [panel, setPanel] = useState(true);
  const [flash, setFlash] = useState<string | null>(null);
  const list = useInboxList(filter);
  const thread = useThread(openId);
  const searchRef = useRef<HTMLInputElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    void loadMembers();
    // Each session's team names the colleagues on messages and in the picker.
    const loadSessions = () =>
      getAll<SessionInfo>("/api/sessions")
        .then((all) => {
          setSessions(all);
          for (const s of all) void loadSessionMembers(s.name);
        })
        .catch(() => {});
    void loadSessions();
    const offs = [
      live.on("session.settings", (f) => {
        const d = f.data as Partial<SessionInfo> & { session: string };
        setSessions((cur) => cur.map((s) => (s.name === d.session ? { ...s, ...d, name: s.name } : s)));
      }),
      live.on("resync", () => {
        void loadSessions();
        void loadMembers(true);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  // The open conversation: read once with its contact, then kept current by events.
  useEffect(() => {
    setDetail(null);
    setGone(null);
    setFlash(null);
    if (openId === null) return;
    let stale = false;
    const load = () =>
      get<ConversationDetail>(`/api/conversations/${openId}`)
        .then((d) => !stale && setDetail(d))
        .catch((e) => !stale && setGone((e as Error).message));
    void load();
    const offs = [
      live.on("conversation.updated", (f) => {
        const c = f.data as Conversation;
        if (c.id === openId) setDetail((cur) => (cur ? { ...cur, ...c } : cur));
      }),
      live.on("conversation.removed", (f) => {
        if (f.data.conversation_id !== openId) return;
        const lost = () =>
          !stale && setGone(`This conversation went to ${memberName(f.data.assignee_id ?? null)}; you no longer see it.`);
        // A supervisor is told too though they still see it: ask before closing it.
        if (isSupervisor(user.role))
          get<ConversationDetail>(`/api/conversations/${openId}`)
            .then((d) => !stale && setDetail(d))
            .catch(lost);
        else lost();
      }),
      live.on("resync", () => void load()),
    ];
    return () => {
      stale = true;
      offs.forEach((off) => off());
    };
  }, [openId]);

  // Opened (and looked at) with unread messages: they are read now.
  useEffect(() => {
    if (!detail || detail.unread === 0) return;
    const read = () => {
      if (document.visibilityState !== "hidden") void markRead(detail.id).catch(() => {});
    };
    read();
    document.addEventListener("visibilitychange", read);
    return () => document.removeEventListener("visibilitychange", read);
  }, [detail?.id, detail?.unread]);

  useKeyboard({
    next: (d) => {
      const items = list.store.items;
      if (!items.length) return;
      const i = openId === null ? -1 : items.findIndex((c) => c.id === openId);
      const j = Math.min(items.length - 1, Math.max(0, i + d));
      if (i === -1 && d < 0) return;
      navigate(`/inbox/${items[j]!.id}`);
      if (j >= items.length - 5) void list.loadMore();
    },
    resolve: () => {
      // The open conversation, even while its details are still on their way.
      if (openId !== null && detail?.status !== "resolved")
        void resolve(openId).catch((e) => setFlash(`Could not resolve: ${(e as Error).message}`));
    },
    search: () => searchRef.current?.focus(),
  });

  const session = detail ? sessions.find((s) => s.name === detail.session) : undefined;
  const blocked =
    detail && session?.reply_policy === "assignee" && detail.assignee_id !== user.id && !isSupervisor(user.role)
      ? detail.assignee_id === null
        ? `Only the assignee may reply in ${detail.session}: take this conversation to reply.`
        : `Only the assignee (${memberName(detail.assignee_id)}) may reply in ${detail.session}.`
      : null;

  return (
    <main class={`inbox${openId !== null ? " has-open" : ""}${panel ? "" : " no-panel"}`} data-testid="inbox">
      <ConversationListPane
        filter={filter}
        onFilter={setFilter}
        store={list.store}
        counts={list.counts}
        sessions={sessions}
        selectedId={openId}
        onOpen={(id) => navigate(`/inbox/${id}`)}
        onNearEnd={() => void list.loadMore()}
        loading={list.loading}
        error={list.error}
        searchRef={searchRef}
      />
      <section class="inbox-thread" aria-label="Conversation">
        {openId === null ? (
          <p class="inbox-empty muted">Choose a conversation. j / k move, e resolves, / searches.</p>
        ) : gone ? (
          <div class="inbox-empty">
            <p role="alert">{gone}</p>
            <button type="button" onClick={() => navigate("/inbox")}>
              Back to the list
            </button>
          </div>
        ) : !detail ? (
          <p class="inbox-empty muted" aria-busy="true">
            Loading…
          </p>
        ) : (
          <>
            <header class="inbox-thread-head">
              <button type="button" class="ghost inbox-back" aria-label="Back to the list" onClick={() => navigate("/inbox")}>
                ←
              </button>
              <div class="inbox-thread-title">
                <h1>{titleOf(detail)}</h1>
                <span class="muted">
                  <span class={`chip inbox-status-${detail.status}`} data-testid="status">
                    {detail.status}
                  </span>{" "}
                  {detail.session} · {memberName(detail.assignee_id)}
                </span>
              </div>
              <button
                type="button"
                class="ghost"
                aria-expanded={panel}
                aria-controls="inbox-side"
                onClick={() => setPanel(!panel)}
              >
                {panel ? "Hide details" : "Details"}
              </button>
            </header>
            {flash && (
              <p class="error inbox-flash" role="alert">
                {flash}
              </p>
            )}
            <Thread
              messages={thread.messages}
              notes={thread.notes}
              complete={thread.complete}
              loading={thread.loading}
              error={thread.error}
              contactTyping={thread.contactTyping}
              agentsTyping={thread.agentsTyping}
              viewers={thread.viewers}
              meId={user.id}
              contactName={detail.contact?.name || titleOf(detail)}
              onOlder={() => void thread.loadOlder()}
              onRetry={(m) => void thread.retry(m)}
            >
              <Composer
                conversationId={detail.id}
                blocked={blocked}
                onSend={(t) => void thread.send(t)}
                inputRef={composerRef}
              />
            </Thread>
          </>
        )}
      </section>
      {detail && !gone && panel && (
        <div id="inbox-side" class="inbox-side-wrap">
          <SidePanel c={detail} notes={thread.notes} />
        </div>
      )}
    </main>
  );
}
