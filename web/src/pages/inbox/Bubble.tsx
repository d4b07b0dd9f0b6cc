// One message: in on the left, out on the right, with its ticks, media, reactions, and a
// retry when a send failed.

import type { AckStatus, Message } from "../../api/types";
import { clock } from "../../lib/format";
import { memberName } from "./members";

const TICKS: Record<AckStatus, { glyph: string; label: string }> = {
  pending: { glyph: "🕓", label: "Sending" },
  sent: { glyph: "✓", label: "Sent" },
  delivered: { glyph: "✓✓", label: "Delivered" },
  read: { glyph: "✓✓", label: "Read" },
  played: { glyph: "✓✓", label: "Played" },
  failed: { glyph: "!", label: "Failed" },
};

export function Ticks({ status }: { status: AckStatus }) {
  const t = TICKS[status] ?? TICKS.pending;
  return (
    <span class={`inbox-ticks inbox-ticks-${status}`} data-testid="ticks" data-status={status} role="img" aria-label={t.label}>
      {t.glyph}
    </span>
  );
}

/** Who wrote an outgoing message: a member, the bot, or someone on the business phone. */
export function authorOf(m: Message): string {
  if (m.bot_id !== null && m.bot_id !== undefined) {
    const name = m.bot_name ?? m.sender_name;
    return name ? `🤖 ${name}` : "🤖 Bot";
  }
  if (m.author_id !== null) return memberName(m.author_id);
  return m.sender_name ?? "From the phone";
}

function MediaPreview({ m }: { m: Message }) {
  const media = m.media!;
  // Through the hub, which fetches it from WAHA with its key (never WAHA's URL directly).
  const src = `/api/messages/${m.id}/media`;
  const type = media.mimetype ?? "";
  const name = media.filename ?? "attachment";
  if (m.id < 0) return null;
  if (type.startsWith("image/")) return <img class="inbox-media" src={src} alt={media.filename ?? "Image"} loading="lazy" />;
  if (type.startsWith("audio/")) return <audio class="inbox-media" controls preload="none" src={src} aria-label="Voice message" />;
  if (type.startsWith("video/")) return <video class="inbox-media" controls preload="metadata" src={src} aria-label="Video" />;
  return (
    <a class="inbox-file" href={src} download={name}>
      📎 {name}
    </a>
  );
}

export function Bubble({ m, onRetry }: { m: Message; onRetry: (m: Message) => void }) {
  const out = m.direction === "out";
  return (
    <div
      class={`inbox-bubble-row ${out ? "out" : "in"}`}
      data-testid="message"
      data-message-id={m.id > 0 ? m.id : undefined}
      data-client-id={m.client_id ?? undefined}
    >
      <div class={`inbox-bubble${m.revoked ? " revoked" : ""}${m.status === "failed" ? " failed" : ""}`}>
        {out && <div class="inbox-author">{authorOf(m)}</div>}
        {m.revoked ? (
          <p class="inbox-text muted">
            <span aria-hidden="true">🚫 </span>This message was deleted
          </p>
        ) : (
          <>
            {m.media && <MediaPreview m={m} />}
            {m.text && <p class="inbox-text">{m.text}</p>}
          </>
        )}
        <div class="inbox-meta">
          <time>{clock(m.created_at)}</time>
          {out && <Ticks status={m.status} />}
        </div>
        {out && m.status === "failed" && (
          <div class="inbox-failed" role="alert">
            <span>Not sent{m.id < 0 && m.sender_name ? `: ${m.sender_name}` : ""}.</span>
            <button type="button" class="small" onClick={() => onRetry(m)}>
              Retry
            </button>
          </div>
        )}
      </div>
      {m.reactions.length > 0 && !m.revoked && (
        <div class="inbox-reactions" aria-label="Reactions">
          {m.reactions.map((r) => (
            <span class="inbox-reaction" title={r.sender}>
              {r.emoji}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
