//! The run's result: [`Summary`] (the JSON line, field order fixed) and the human table.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::presence::PresenceSummary;

#[derive(Serialize)]
pub struct Summary {
    pub mode: &'static str,
    pub target: &'static str,
    pub label: String,
    pub url: String,
    pub agents: usize,
    pub rate: f64,
    pub seconds: f64,
    pub chats: usize,
    pub connections: usize,
    pub warmup: usize,
    pub sent: u64,
    pub messages: u64,
    pub http_ok: u64,
    pub http_errors: u64,
    pub http_error_kinds: BTreeMap<String, u64>,
    pub send_rate: f64,
    pub achieved_rate: f64,
    pub send_lag_max_ms: f64,
    pub post_p50_ms: Option<f64>,
    pub post_p99_ms: Option<f64>,
    pub post_max_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    pub expected: u64,
    pub delivered: u64,
    pub missing: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub seq_errors: u64,
    pub unexpected: u64,
    pub delivered_unacked: u64,
    pub warmup_missing: u64,
    pub frames: u64,
    pub bad_frames: u64,
    pub disconnects: u64,
    pub drain_s: f64,
    /// POSTs made again after a 5xx or no answer (`--retries`)
    pub http_retries: u64,
    /// sockets opened again with `since` after dropping, and what they replayed: first
    /// deliveries of messages sent before the socket was resumed
    pub reconnects: u64,
    pub replayed: u64,
    /// `resync_required` frames (the hub could not replay everything)
    pub resyncs: u64,
    /// agents per node (hello's `node`) when they connected, and at the end
    pub agents_per_node: BTreeMap<String, u64>,
    pub agents_per_node_end: BTreeMap<String, u64>,
    /// With `--presence` only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceSummary>,
    /// With `--bot` only (absent otherwise, so the line is unchanged without it).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub bot: Option<BotSummary>,
    /// With `--hook-sink` only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<crate::hooksink::HookSummary>,
    pub passed: bool,
}

/// The bot's replies: every webhook answered 2xx (warm-up included) wants one.
#[derive(Serialize)]
pub struct BotSummary {
    pub bot_id: i64,
    pub replies_expected: u64,
    pub replies_sent: u64,
    pub replies_missing: u64,
    pub reply_duplicates: u64,
    /// the bot's text sent to chats this run never wrote from
    pub reply_stray: u64,
    /// other texts the session sent meanwhile (greetings, fallbacks: there should be none)
    pub other_sends: u64,
    /// webhook POST -> the simulator's send, measured messages only
    pub reply_p50_ms: Option<f64>,
    pub reply_p99_ms: Option<f64>,
    pub reply_max_ms: Option<f64>,
    /// the simulator's pace over the replies, first to last (the hub's send pipeline)
    pub reply_rate: Option<f64>,
    /// the replies' own `message.created` frames, over all agents (informational)
    pub reply_frames: u64,
    pub reply_wait_s: f64,
    /// what went wrong reading the simulator, if anything (the check then fails)
    pub reply_error: Option<String>,
}

pub fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn q_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| r2(h.value_at_quantile(q) as f64 / 1000.0))
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into())
}

pub fn print_table(s: &Summary) {
    let kinds = if s.http_error_kinds.is_empty() {
        String::new()
    } else {
        format!(
            "  ({})",
            s.http_error_kinds
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rows: Vec<(&str, String)> = vec![
        ("label", s.label.clone()),
        ("url", s.url.clone()),
        (
            "agents / chats / connections",
            format!("{} / {} / {}", s.agents, s.chats, s.connections),
        ),
        (
            "rate target / sent / achieved",
            format!(
                "{}/s x {} s: {} sent at {:.1}/s, {:.1} 2xx/s",
                s.rate, s.seconds, s.sent, s.send_rate, s.achieved_rate
            ),
        ),
        ("send lag max", format!("{:.1} ms", s.send_lag_max_ms)),
        (
            "HTTP 2xx / errors",
            format!("{} / {}{}", s.http_ok, s.http_errors, kinds),
        ),
        (
            "webhook answer p50 / p99 / max",
            format!(
                "{} / {} / {} ms",
                opt(s.post_p50_ms),
                opt(s.post_p99_ms),
                opt(s.post_max_ms)
            ),
        ),
        (
            "webhook -> ws p50 / p90 / p99",
            format!(
                "{} / {} / {} ms",
                opt(s.p50_ms),
                opt(s.p90_ms),
                opt(s.p99_ms)
            ),
        ),
        (
            "webhook -> ws p99.9 / max / mean",
            format!(
                "{} / {} / {} ms",
                opt(s.p999_ms),
                opt(s.max_ms),
                opt(s.mean_ms)
            ),
        ),
        (
            "delivered / expected",
            format!("{} / {}", s.delivered, s.expected),
        ),
        ("missing", s.missing.to_string()),
        ("duplicates", s.duplicates.to_string()),
        ("seq errors", s.seq_errors.to_string()),
        ("unexpected frames", s.unexpected.to_string()),
        (
            "frames read / unparsable",
            format!("{} / {}", s.frames, s.bad_frames),
        ),
        (
            "sockets dropped / resumed / replayed",
            format!("{} / {} / {}", s.disconnects, s.reconnects, s.replayed),
        ),
        ("resync_required", s.resyncs.to_string()),
        ("webhook POSTs retried", s.http_retries.to_string()),
        ("agents per node (start)", per_node(&s.agents_per_node)),
        ("agents per node (end)", per_node(&s.agents_per_node_end)),
        ("drain", format!("{:.2} s", s.drain_s)),
    ];
    let mut rows = rows;
    if let Some(h) = &s.hooks {
        rows.push((
            "hooks expected / received / duplicates",
            format!(
                "{} / {} / {}",
                h.hooks_expected, h.hooks_received, h.hook_duplicates
            ),
        ));
        rows.push((
            "hook lag p50 / p99 / max (ms)",
            format!(
                "{} / {} / {}",
                opt(h.hook_lag_p50_ms),
                opt(h.hook_lag_p99_ms),
                opt(h.hook_lag_max_ms)
            ),
        ));
    }
    if let Some(p) = &s.presence {
        rows.extend(presence_rows(p));
    }
    if let Some(b) = &s.bot {
        rows.extend(bot_rows(b));
    }
    rows.push(("result", if s.passed { "PASS" } else { "FAIL" }.into()));
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<w$}  {v}");
    }
}

fn per_node(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn presence_rows(p: &PresenceSummary) -> Vec<(&'static str, String)> {
    vec![
        (
            "presence changes / expected / seen",
            format!(
                "{} / {} / {}",
                p.presence_changes, p.presence_expected, p.presence_seen
            ),
        ),
        ("presence missing", p.presence_missing.to_string()),
        (
            "presence -> other sockets p50 / p99 / max",
            format!(
                "{} / {} / {} ms",
                opt(p.presence_p50_ms),
                opt(p.presence_p99_ms),
                opt(p.presence_max_ms)
            ),
        ),
    ]
}

fn bot_rows(b: &BotSummary) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        (
            "bot replies expected / sent",
            format!("{} / {}", b.replies_expected, b.replies_sent),
        ),
        (
            "bot replies missing / duplicates",
            format!("{} / {}", b.replies_missing, b.reply_duplicates),
        ),
        (
            "bot stray replies / other sends",
            format!("{} / {}", b.reply_stray, b.other_sends),
        ),
        (
            "webhook -> reply sent p50 / p99 / max",
            format!(
                "{} / {} / {} ms",
                opt(b.reply_p50_ms),
                opt(b.reply_p99_ms),
                opt(b.reply_max_ms)
            ),
        ),
        (
            "replies sent per second",
            b.reply_rate
                .map(|r| format!("{r:.1}"))
                .unwrap_or_else(|| "-".into()),
        ),
        ("reply frames read", b.reply_frames.to_string()),
        ("waited for replies", format!("{:.2} s", b.reply_wait_s)),
    ];
    if let Some(e) = &b.reply_error {
        rows.push(("reply check error", e.clone()));
    }
    rows
}
