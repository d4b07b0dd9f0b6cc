// The reply box: Enter (or Ctrl+Enter) sends, Shift+Enter breaks the line, `/` at the start
// searches the saved replies, and the others see "typing…" (at most every 3 s).

import type { Ref } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { get, type Page } from "../../api/http";
import { live } from "../../state/session";
import type { QuickReply } from "./types";

const TYPING_EVERY = 3000;

interface Props {
  conversationId: number;
  /** Why this member may not reply here; the box is replaced by it. */
  blocked: string | null;
  onSend: (text: string) => void;
  inputRef?: Ref<HTMLTextAreaElement>;
}

/** `/sho` at the very start, before any space: the search text, else null. */
export const slashQuery = (text: string) => (/^\/\S*$/.test(text) ? text.slice(1) : null);

export function Composer(p: Props) {
  const [text, setText] = useState("");
  const [replies, setReplies] = useState<QuickReply[]>([]);
  const [active, setActive] = useState(0);
  const [menuClosed, setMenuClosed] = useState(false);
  const lastTyping = useRef(0);
  const query = slashQuery(text);
  const menuOpen = query !== null && !menuClosed;

  useEffect(() => {
    setText("");
    lastTyping.current = 0;
  }, [p.conversationId]);

  useEffect(() => {
    if (!menuOpen) return;
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const page = await get<Page<QuickReply>>("/api/quick-replies", { q: query || undefined, limit: 20 });
        if (!stale) {
          setReplies(page.items);
          setActive(0);
        }
      } catch {
        if (!stale) setReplies([]);
      }
    }, 120);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [query, menuOpen]);

  if (p.blocked) {
    return (
      <div class="inbox-composer blocked" role="note" data-testid="composer-blocked">
        {p.blocked}
      </div>
    );
  }

  function submit() {
    const t = text.trim();
    if (!t) return;
    p.onSend(t);
    setText("");
    lastTyping.current = 0;
  }

  function pick(r: QuickReply) {
    setText(r.text);
    setMenuClosed(true);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (menuOpen && replies.length > 0) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const d = e.key === "ArrowDown" ? 1 : -1;
        setActive((a) => (a + d + replies.length) % replies.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        pick(replies[active] ?? replies[0]!);
        return;
      }
    }
    if (e.key === "Escape") {
      e.preventDefault();
      if (menuOpen) setMenuClosed(true);
      else (e.currentTarget as HTMLTextAreaElement).blur();
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey || !e.shiftKey)) {
      e.preventDefault();
      submit();
    }
  }

  function onInput(e: Event) {
    const v = (e.currentTarget as HTMLTextAreaElement).value;
    setText(v);
    if (slashQuery(v) === null) setMenuClosed(false);
    const now = Date.now();
    if (v && now - lastTyping.current >= TYPING_EVERY) {
      lastTyping.current = now;
      live.send("typing", { conversation_id: p.conversationId });
    }
  }

  return (
    <form
      class="inbox-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {menuOpen && (
        <ul class="inbox-quick" role="listbox" id="inbox-quick" aria-label="Quick replies">
          {replies.length === 0 && <li class="muted">No saved reply matches “{query}”.</li>}
          {replies.map((r, i) => (
            <li
              id={`qr-${r.id}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(r);
              }}
            >
              <strong>/{r.shortcut}</strong> <span class="muted">{r.text}</span>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={p.inputRef}
        rows={2}
        value={text}
        placeholder="Reply…  (Enter sends, Shift+Enter new line, / for saved replies)"
        aria-label="Reply"
        aria-autocomplete="list"
        aria-controls={menuOpen ? "inbox-quick" : undefined}
        aria-activedescendant={menuOpen && replies[active] ? `qr-${replies[active]!.id}` : undefined}
        data-testid="composer"
        onInput={onInput}
        onKeyDown={onKeyDown}
      />
      <button type="submit" class="primary" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}
