import { useEffect, useState } from "preact/hooks";
import { get, getAll, type Page } from "../../api/http";
import { onLink } from "../../lib/router";
import { live } from "../../state/session";
import { BotSettings } from "./BotSettings";
import { formatErr } from "../../api/fieldErrors";
import { Replay } from "./Replay";
import { hoursToday, SAMPLE_CONTACT, type PreviewVars } from "./template";
import { Tester } from "./Tester";
import { TriggerList } from "./TriggerList";
import { metricsLine } from "./figures";
import type { Bot, BotMetrics, BusinessHours, SessionSummary, TestResult, Trigger } from "./types";

/** `/bots/:id`: the bot's settings and business hours, its triggers, and the tester. */
export function BotEditor({ id }: { id: number }) {
  const [bot, setBot] = useState<Bot | null>(null);
  const [triggers, setTriggers] = useState<Trigger[]>([]);
  const [sessions, setSessions] = useState<SessionSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [matched, setMatched] = useState<number | null>(null);
  const [hours, setHours] = useState<BusinessHours | null>(null);
  const [metrics, setMetrics] = useState<BotMetrics | null>(null);

  const loadMetrics = async () => {
    try {
      setMetrics(await get<BotMetrics>(`/api/bots/${id}/metrics`));
    } catch {
      /* the figures are a summary; the editor works without them */
    }
  };
  const loadTriggers = async () => setTriggers(await getAll<Trigger>("/api/triggers", { bot_id: id }));
  const load = async () => {
    try {
      const [b, s] = await Promise.all([get<Bot>(`/api/bots/${id}`), get<Page<SessionSummary>>("/api/sessions"), loadTriggers(), loadMetrics()]);
      setBot(b);
      setHours(b.business_hours);
      setSessions(s.items);
      setError(null);
    } catch (e) {
      setError(formatErr(e));
    }
  };
  useEffect(() => {
    void load();
    // No event tells of bot changes (docs/websocket.md); a resync may have missed anything, so read again.
    const offResync = live.on("resync", () => void load());
    const offHandoff = live.on("conversation.handoff", (f) => {
      if ((f.data as { bot_id: number | null }).bot_id === id) void loadMetrics();
    });
    return () => {
      offResync();
      offHandoff();
    };
  }, [id]);

  if (error && !bot)
    return (
      <main class="main">
        <p class="error" role="alert">
          {error}
        </p>
        <a href="/bots" onClick={(e) => onLink(e, "/bots")}>
          ← All bots
        </a>
      </main>
    );
  if (!bot) return <main class="main" aria-busy="true" />;

  // The hub renders {{business.name}} from the session's WhatsApp name: the first served session's.
  const business = sessions.find((s) => bot.sessions.includes(s.name))?.me_name ?? null;
  const vars: PreviewVars = { contact: SAMPLE_CONTACT, businessName: business, hoursToday: hoursToday(hours) };

  return (
    <main class="main bots" data-testid="bot-editor">
      <div class="row bots-title">
        <a href="/bots" onClick={(e) => onLink(e, "/bots")}>
          ← All bots
        </a>
        <h1>{bot.name}</h1>
        <span class={`chip ${bot.active ? "bots-open" : "bots-closed"}`}>{bot.active ? "active" : "off"}</span>
        {metrics && (
          <span class="muted bots-figures" data-testid="bot-figures">
            Last 30 days: {metricsLine(metrics)}
          </span>
        )}
        <span class="muted">
          Previews use a sample contact ({SAMPLE_CONTACT.name}, {SAMPLE_CONTACT.phone}); the tester shows what the hub renders.
        </span>
      </div>
      <div class="bots-grid">
        <div class="stack bots-col">
          <Tester botId={id} triggers={triggers} onResult={(r: TestResult | null) => setMatched(r?.trigger_id ?? null)} />
          <TriggerList
            botId={id}
            triggers={triggers}
            onChange={setTriggers}
            onReload={() => void loadTriggers()}
            matchedId={matched}
            vars={vars}
            figures={metrics?.triggers}
          />
          <Replay botId={id} />
        </div>
        <div class="stack bots-col">
          <BotSettings bot={bot} sessions={sessions.map((s) => s.name)} vars={vars} onSaved={setBot} onHoursChange={setHours} />
        </div>
      </div>
    </main>
  );
}
