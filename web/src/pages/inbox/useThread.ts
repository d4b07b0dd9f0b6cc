// One open conversation: its messages (paged back through history), notes, who else is
// there, and the sends of this tab — kept current from the socket.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, post, type Page } from "../../api/http";
import type { Message } from "../../api/types";
import { CommandError } from "../../live/socket";
import { live, me } from "../../state/session";
import { markFrame } from "./perf";
import { mergeMessage, prependOlder } from "./threadState";
import type { Note } from "./types";

const PAGE = 40;
/** The customer's "typing…" fades if WhatsApp never says they stopped. */
const TYPING_TTL = 6000;

let localIds = 0;
export const newClientId = () =>
  typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;

export interface Viewer {
  user_id: number;
  name: string;
}

export function useThread(id: number | null) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [notes, setNotes] = useState<Note[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [complete, setComplete] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [contactTyping, setContactTyping] = useState(false);
  const [agentsTyping, setAgentsTyping] = useState<number[]>([]);
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const idRef = useRef(id);
  idRef.current = id;
  const olderBusy = useRef(false);

  async function load() {
    if (id === null) return;
    const want = id;
    setLoading(true);
    setError(null);
    try {
      const [page, ns] = await Promise.all([
        get<Page<Message>>(`/api/conversations/${want}/messages`, { limit: PAGE }),
        get<Page<Note>>(`/api/conversations/${want}/notes`, { limit: 200 }).catch(() => ({ items: [] as Note[], next_cursor: null })),
      ]);
      if (idRef.current !== want) return;
      // Keep this tab's unconfirmed sends across a reload.
      setMessages((cur) => {
        let next = prependOlder([], page.items);
        for (const m of cur) if (m.id < 0 && m.conversation_id === want) next = mergeMessage(next, m);
        return next;
      });
      setNotes(ns.items);
      setCursor(page.next_cursor);
      setComplete(page.next_cursor === null);
    } catch (e) {
      if (idRef.current === want) setError((e as Error).message);
    } finally {
      if (idRef.current === want) setLoading(false);
    }
  }

  async function loadOlder() {
    if (id === null || !cursor || olderBusy.current) return;
    const want = id;
    olderBusy.current = true;
    try {
      const page = await get<Page<Message>>(`/api/conversations/${want}/messages`, { limit: PAGE, cursor });
      if (idRef.current !== want) return;
      setMessages((cur) => prependOlder(cur, page.items));
      setCursor(page.next_cursor);
      setComplete(page.next_cursor === null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      olderBusy.current = false;
    }
  }

  useEffect(() => {
    setMessages([]);
    setNotes([]);
    setCursor(null);
    setComplete(false);
    setViewers([]);
    setContactTyping(false);
    setAgentsTyping([]);
    if (id === null) return;
    void load();
    live.send("conversation.view", { conversation_id: id });
    const timers = new Map<string, any>();
    const expire = (key: string, f: () => void) => {
      clearTimeout(timers.get(key));
      timers.set(key, setTimeout(f, TYPING_TTL));
    };
    const offs = [
      live.on("message.created", (f) => {
        const m = f.data as Message;
        if (m.conversation_id !== id) return;
        markFrame(m.id);
        setMessages((cur) => mergeMessage(cur, m));
        if (m.direction === "in") setContactTyping(false);
      }),
      live.on("message.updated", (f) => {
        const m = f.data as Message;
        if (m.conversation_id === id) setMessages((cur) => mergeMessage(cur, m));
      }),
      live.on("note.created", (f) => {
        const n = f.data as Note;
        if (n.conversation_id === id) setNotes((cur) => (cur.some((x) => x.id === n.id) ? cur : [...cur, n]));
      }),
      live.on("conversation.viewers", (f) => {
        if (f.data.conversation_id === id) setViewers(f.data.viewers as Viewer[]);
      }),
      live.on("typing", (f) => {
        const d = f.data as { conversation_id: number; who: string; state?: string; user_id?: number };
        if (d.conversation_id !== id) return;
        const on = !d.state || d.state === "typing" || d.state === "composing" || d.state === "recording";
        if (d.who === "contact") {
          setContactTyping(on);
          if (on) expire("contact", () => setContactTyping(false));
        } else if (d.user_id !== undefined && d.user_id !== me.value?.id) {
          const uid = d.user_id;
          setAgentsTyping((cur) => (cur.includes(uid) ? cur : [...cur, uid]));
          expire(`a${uid}`, () => setAgentsTyping((cur) => cur.filter((x) => x !== uid)));
        }
      }),
      live.on("resync", () => void load()),
      // A new socket does not know what this tab had open.
      live.on("hello", () => live.send("conversation.view", { conversation_id: id })),
    ];
    return () => {
      offs.forEach((off) => off());
      timers.forEach((t) => clearTimeout(t));
      live.send("conversation.leave", { conversation_id: id });
    };
  }, [id]);

  /** Shows the message at once, sends it over the socket, or over HTTP when the socket is down. */
  async function send(text: string) {
    if (id === null) return;
    const conv = id;
    const client_id = newClientId();
    const optimistic: Message = {
      id: -++localIds,
      conversation_id: conv,
      session: "",
      direction: "out",
      text,
      waha_id: null,
      status: "pending",
      sender: null,
      sender_name: null,
      media: null,
      created_at: Date.now(),
      client_id,
      author_id: me.value?.id ?? null,
      bot_id: null,
      bot_name: null,
      revoked: false,
      reactions: [],
    };
    setMessages((cur) => mergeMessage(cur, optimistic));
    await deliver(conv, text, client_id);
  }

  async function deliver(conv: number, text: string, client_id: string) {
    const fail = (why: string) =>
      setMessages((cur) =>
        cur.map((m) => (m.id < 0 && m.client_id === client_id ? { ...m, status: "failed", sender_name: why } : m)),
      );
    try {
      await live.command("message.send", { conversation_id: conv, text, client_id });
    } catch (e) {
      if (!(e instanceof CommandError && e.code === "unavailable")) return fail((e as Error).message);
      try {
        // The same client_id: if the socket's send did land, the hub answers that message.
        const m = await post<Message>(`/api/conversations/${conv}/messages`, { text, client_id });
        setMessages((cur) => mergeMessage(cur, m));
      } catch (e2) {
        fail(e2 instanceof ApiError ? e2.message : String(e2));
      }
    }
  }

  /** A failed send again: the hub's own retry for a stored message, a resend for one it never took. */
  async function retry(m: Message) {
    if (m.id < 0) {
      setMessages((cur) => cur.map((x) => (x === m ? { ...x, status: "pending", sender_name: null } : x)));
      return deliver(m.conversation_id, m.text, m.client_id!);
    }
    try {
      const updated = await post<Message>(`/api/messages/${m.id}/retry`);
      setMessages((cur) => mergeMessage(cur, updated));
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return {
    messages,
    notes,
    complete,
    loading,
    error,
    contactTyping,
    agentsTyping,
    viewers,
    loadOlder,
    send,
    retry,
    reload: load,
  };
}
