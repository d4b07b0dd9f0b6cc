import { useEffect, useState } from "preact/hooks";
import { del, get, getAll, post } from "../../api/http";
import { navigate, onLink } from "../../lib/router";
import { live } from "../../state/session";
import { formatErr } from "../../api/fieldErrors";
import { metricsLine } from "./figures";
import type { Bot, BotMetrics } from "./types";

/** `/bots`: every bot the member may manage, with its figures; create and delete. */
export function BotList() {
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [metrics, setMetrics] = useState<Record<number, BotMetrics>>({});
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [confirm, setConfirm] = useState<number | null>(null);

  const loadMetrics = async (id: number) => {
    try {
      const m = await get<BotMetrics>(`/api/bots/${id}/metrics`);
      setMetrics((x) => ({ ...x, [id]: m }));
    } catch {
      /* the list still shows the bot; its figures stay blank */
    }
  };
  const load = async () => {
    try {
      const list = await getAll<Bot>("/api/bots");
      setBots(list);
      await Promise.all(list.map((b) => loadMetrics(b.id)));
    } catch (e) {
      setError(formatErr(e));
    }
  };
  useEffect(() => {
    void load();
    const offResync = live.on("resync", () => void load());
    // A handoff is the one bot event the socket carries: that bot's figures moved.
    const offHandoff = live.on("conversation.handoff", (f) => {
      const botId = (f.data as { bot_id: number | null }).bot_id;
      if (botId !== null) void loadMetrics(botId);
    });
    return () => {
      offResync();
      offHandoff();
    };
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      // Created off and serving nothing: the editor attaches sessions once it is ready.
      const b = await post<Bot>("/api/bots", { name: name.trim(), sessions: [], active: false });
      navigate(`/bots/${b.id}`);
    } catch (x) {
      setError(formatErr(x));
    }
  };
  const remove = async (id: number) => {
    setError(null);
    try {
      await del(`/api/bots/${id}`);
      setBots((bs) => bs?.filter((b) => b.id !== id) ?? null);
    } catch (x) {
      setError(formatErr(x));
    }
    setConfirm(null);
  };

  return (
    <main class="main bots stack" data-testid="bot-list">
      <h1>Bots</h1>
      <form class="row card bots-create" onSubmit={create}>
        <label>
          New bot name
          <input value={name} required maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" disabled={!name.trim()}>
          Create bot
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {bots === null ? (
        <p class="muted" aria-busy="true">
          Loading…
        </p>
      ) : bots.length === 0 ? (
        <p class="muted">No bots yet. A bot answers the common questions of its sessions and hands over to a person.</p>
      ) : (
        <div class="card bots-table-wrap">
          <table class="bots-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Sessions</th>
                <th>Active</th>
                <th>Last 30 days</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {bots.map((b) => (
                <tr key={b.id} data-testid={`bot-${b.id}`}>
                  <td>
                    <a href={`/bots/${b.id}`} onClick={(e) => onLink(e, `/bots/${b.id}`)}>
                      {b.name}
                    </a>
                  </td>
                  <td>{b.sessions.length ? b.sessions.map((s) => <span class="chip" key={s}>{s}</span>) : <span class="muted">none</span>}</td>
                  <td>
                    <span class={`chip ${b.active ? "bots-open" : "bots-closed"}`}>{b.active ? "active" : "off"}</span>
                  </td>
                  <td class="muted">{metrics[b.id] ? metricsLine(metrics[b.id]) : "…"}</td>
                  <td>
                    {confirm === b.id ? (
                      <span class="row" role="group" aria-label={`Confirm deleting ${b.name}`}>
                        <span>Delete “{b.name}” and its triggers? Its conversations go to people.</span>
                        <button type="button" class="danger small" onClick={() => void remove(b.id)}>
                          Delete bot
                        </button>
                        <button type="button" class="small" onClick={() => setConfirm(null)}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button type="button" class="small danger" aria-label={`Delete ${b.name}`} onClick={() => setConfirm(b.id)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
