//! The agents' websocket readers: connecting and checking `hello`, then matching every
//! `message.created` frame to its webhook and timing it ([`AgentStats`]). A socket that drops
//! before the end is opened again with `since` (a node died, or the hub restarted) so what it
//! missed meanwhile is replayed and counted, not lost; with `--presence` agent 0 also writes
//! the presence commands and the others time their `presence.updated`.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::presence::{self, Cmd, Matcher, PresenceData};
use crate::state::{new_hist, Run};
use crate::text::truncate;

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MsgData<'a> {
    #[serde(borrow, default)]
    waha_id: Option<Cow<'a, str>>,
    /// Set on a bot's reply (stored before it is sent, so without a WAHA id yet).
    #[serde(default)]
    bot_id: Option<i64>,
}

#[derive(Deserialize)]
struct HelloData {
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    node: Option<String>,
}

#[derive(Deserialize)]
struct ErrorData<'a> {
    #[serde(borrow, default, rename = "ref")]
    reference: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the `hello` frame said: where the stream starts, and which node serves the socket.
pub struct Hello {
    pub seq: Option<u64>,
    pub node: Option<String>,
}

pub struct AgentStats {
    pub lat_us: Histogram<u64>,
    pub seen: Vec<u64>,
    pub frames: u64,
    pub bad_frames: u64,
    pub duplicates: u64,
    pub seq_errors: u64,
    pub unexpected: u64,
    /// `message.created` frames of a bot's replies
    pub bot_frames: u64,
    /// the node of the socket at the end (another one than at the start after a reconnect)
    pub node_last: Option<String>,
    /// times the socket dropped before the end, and times it was opened again with `since`
    pub drops: u64,
    pub reconnects: u64,
    /// first deliveries, on a resumed socket, of messages sent before it was resumed
    pub replayed: u64,
    /// `resync_required` frames: the hub could not replay, so messages may be missing
    pub resyncs: u64,
    /// `error` frames answering this agent's presence commands
    pub command_errors: u64,
    /// the presence changes this socket saw (agents other than the one making them)
    pub presence: Matcher,
    /// set when the socket dropped and could not be resumed: why
    pub closed: Option<String>,
    /// the slowest measured deliveries at this socket: (µs, message index), at most 3
    pub slowest: Vec<(u64, usize)>,
}

pub async fn connect_agent(ws_url: &str) -> Result<(Ws, Hello), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, None, true)
        .await
        .map_err(|e| format!("websocket connect: {e}"))?;
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .map_err(|_| "no hello frame within 10 s".to_string())?;
    let text = match first {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(other)) => return Err(format!("first frame is not text: {other:?}")),
        Some(Err(e)) => return Err(format!("websocket error before hello: {e}")),
        None => return Err("websocket closed before hello".into()),
    };
    let f: Frame = serde_json::from_str(text.as_str())
        .map_err(|e| format!("hello is not a JSON frame ({e}): {}", truncate(&text, 200)))?;
    if f.ty != "hello" {
        return Err(format!("first frame is {:?}, not hello", f.ty));
    }
    let data = f
        .data
        .and_then(|d| serde_json::from_str::<HelloData>(d.get()).ok());
    let (data_seq, node) = data.map(|d| (d.seq, d.node)).unwrap_or((None, None));
    Ok((
        ws,
        Hello {
            seq: data_seq.or(f.seq),
            node,
        },
    ))
}

/// What a reader needs besides its socket.
pub struct Reader {
    pub idx: usize,
    pub run: Arc<Run>,
    /// the websocket URL (token included) a dropped socket reconnects through, `since` added
    pub resume_url: Arc<str>,
    /// how long a dropped socket keeps trying to reconnect
    pub reconnect_wait: Duration,
    /// agent 0 with `--presence`: the presence commands to write
    pub commands: Option<mpsc::UnboundedReceiver<Cmd>>,
}

/// Why a socket stopped being read.
enum End {
    Stopped,
    Dropped(String),
}

pub async fn read_agent(
    mut r: Reader,
    ws: Ws,
    hello: Hello,
    mut stop: oneshot::Receiver<()>,
) -> AgentStats {
    let run = r.run.clone();
    let mut st = AgentStats {
        lat_us: new_hist(),
        seen: vec![0u64; run.total.div_ceil(64)],
        frames: 0,
        bad_frames: 0,
        duplicates: 0,
        seq_errors: 0,
        unexpected: 0,
        bot_frames: 0,
        node_last: hello.node,
        drops: 0,
        reconnects: 0,
        replayed: 0,
        resyncs: 0,
        command_errors: 0,
        presence: Matcher::default(),
        closed: None,
        slowest: Vec::with_capacity(4),
    };
    let mut ws = ws;
    let mut cur = Cursor {
        last_seq: hello.seq,
        resumed_at: None,
        // a command that could not be written (the socket broke): written after the reconnect
        pending: None,
    };
    loop {
        match read_socket(&mut r, &mut ws, &mut cur, &mut st, &mut stop).await {
            End::Stopped => break,
            End::Dropped(why) => {
                st.drops += 1;
                match reconnect(&r, &cur, &why, &mut stop).await {
                    Ok(Some((new_ws, h))) => {
                        eprintln!(
                            "agent {}: socket on {} dropped ({why}); resumed on {} since {:?}",
                            r.idx,
                            st.node_last.as_deref().unwrap_or("?"),
                            h.node.as_deref().unwrap_or("?"),
                            cur.last_seq
                        );
                        ws = new_ws;
                        st.reconnects += 1;
                        st.node_last = h.node;
                        // after `resync_required` the hub starts from its head instead
                        cur.last_seq = h.seq.or(cur.last_seq);
                        cur.resumed_at = Some(run.now_ns());
                    }
                    Ok(None) => return st, // stopped while reconnecting: the socket is gone
                    Err(e) => {
                        eprintln!("agent {}: {e}", r.idx);
                        st.closed = Some(e);
                        return st;
                    }
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    st
}

/// A reader's position, kept across reconnects.
struct Cursor {
    last_seq: Option<u64>,
    /// ns since the run's base at which the socket was last resumed
    resumed_at: Option<u64>,
    pending: Option<Cmd>,
}

/// The next command for agent 0, or never (no commands, or none left).
async fn next_command(c: &mut Option<mpsc::UnboundedReceiver<Cmd>>) -> Cmd {
    if let Some(rx) = c {
        if let Some(cmd) = rx.recv().await {
            return cmd;
        }
    }
    *c = None;
    std::future::pending().await
}

/// Writes a presence command; a timed change's instant is taken just before the write and
/// published once the write went through.
async fn write_command(ws: &mut Ws, cmd: Cmd, run: &Run) -> Result<(), String> {
    let (text, k) = match cmd {
        Cmd::Reset => (presence::reset_command(), None),
        Cmd::Change(k) => (presence::command(k), Some(k)),
    };
    let t0 = run.now_ns() + 1;
    ws.send(Message::text(text))
        .await
        .map_err(|e| format!("writing a presence command: {e}"))?;
    if let Some(k) = k {
        run.presence.sent_ns[k].store(t0, Ordering::Release);
    }
    Ok(())
}

/// Reads one socket until the run stops or the socket ends.
async fn read_socket(
    r: &mut Reader,
    ws: &mut Ws,
    cur: &mut Cursor,
    st: &mut AgentStats,
    stop: &mut oneshot::Receiver<()>,
) -> End {
    let run = &*r.run;
    let counter = &run.counters[r.idx];
    let mut close_reason: Option<String> = None;
    if let Some(cmd) = cur.pending.take() {
        if let Err(e) = write_command(ws, cmd, run).await {
            cur.pending = Some(cmd);
            return End::Dropped(e);
        }
    }
    loop {
        let msg = tokio::select! {
            biased;
            _ = &mut *stop => return End::Stopped,
            cmd = next_command(&mut r.commands) => {
                if let Err(e) = write_command(ws, cmd, run).await {
                    cur.pending = Some(cmd);
                    return End::Dropped(e);
                }
                continue;
            }
            m = ws.next() => m,
        };
        let arrived = Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                close_reason = Some(format!("closed by server: {c:?}"));
                continue; // the stream ends after the close handshake
            }
            Some(Ok(_)) => continue, // ping/pong (answered by tungstenite), binary
            Some(Err(e)) => {
                return End::Dropped(
                    close_reason.unwrap_or_else(|| format!("websocket error: {e}")),
                )
            }
            None => return End::Dropped(close_reason.unwrap_or_else(|| "websocket closed".into())),
        };
        st.frames += 1;
        let Ok(f) = serde_json::from_str::<Frame>(text.as_str()) else {
            st.bad_frames += 1;
            continue;
        };
        if let Some(seq) = f.seq {
            if matches!(cur.last_seq, Some(l) if seq <= l) {
                st.seq_errors += 1;
            }
            cur.last_seq = Some(seq);
        }
        let at = (arrived - run.base).as_nanos() as u64;
        match &*f.ty {
            "message.created" => {}
            "presence.updated" => {
                if r.idx != 0 {
                    let d = f
                        .data
                        .and_then(|d| serde_json::from_str::<PresenceData>(d.get()).ok());
                    if let Some(d) = d {
                        if st.presence.on_frame(&d.status, at, &run.presence) {
                            counter.presence.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                continue;
            }
            "resync_required" => {
                st.resyncs += 1;
                continue;
            }
            "error" => {
                let d = f
                    .data
                    .and_then(|d| serde_json::from_str::<ErrorData>(d.get()).ok());
                if let Some(d) = d.filter(|d| {
                    d.reference
                        .as_deref()
                        .is_some_and(|x| x.starts_with("presence"))
                }) {
                    st.command_errors += 1;
                    eprintln!(
                        "agent {}: presence command {:?} refused: {}",
                        r.idx,
                        d.reference.as_deref().unwrap_or(""),
                        d.message.as_deref().unwrap_or("")
                    );
                }
                continue;
            }
            _ => continue,
        }
        let d = f
            .data
            .and_then(|d| serde_json::from_str::<MsgData>(d.get()).ok());
        if d.as_ref().is_some_and(|d| d.bot_id.is_some()) {
            st.bot_frames += 1;
            continue;
        }
        let wid = d.and_then(|d| d.waha_id);
        let Some(i) = wid.as_deref().and_then(|w| run.index_of(w)) else {
            st.unexpected += 1;
            continue;
        };
        let sent = run.sent_ns[i].load(Ordering::Acquire);
        if sent == 0 {
            st.unexpected += 1;
            continue;
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if st.seen[word] & bit != 0 {
            st.duplicates += 1;
            continue;
        }
        st.seen[word] |= bit;
        if cur.resumed_at.is_some_and(|r| sent - 1 < r) {
            st.replayed += 1;
        }
        if i >= run.warm {
            let lat_us = (at.saturating_sub(sent - 1) / 1000).max(1);
            st.lat_us.saturating_record(lat_us);
            keep_slowest(&mut st.slowest, lat_us, i);
            counter.measured.fetch_add(1, Ordering::Relaxed);
        } else {
            counter.warm.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Keeps the 3 slowest (µs, message) of a socket.
fn keep_slowest(top: &mut Vec<(u64, usize)>, lat_us: u64, i: usize) {
    if top.len() < 3 {
        top.push((lat_us, i));
    } else if let Some(min) = top.iter_mut().min() {
        if lat_us > min.0 {
            *min = (lat_us, i);
        }
    }
}

/// Opens the socket again through `resume_url` with `since` = the last seq read, retrying
/// every 100 ms for `reconnect_wait`. `Ok(None)`: the run stopped meanwhile.
async fn reconnect(
    r: &Reader,
    cur: &Cursor,
    why: &str,
    stop: &mut oneshot::Receiver<()>,
) -> Result<Option<(Ws, Hello)>, String> {
    let url = match cur.last_seq {
        Some(s) => format!("{}&since={s}", r.resume_url),
        None => r.resume_url.to_string(),
    };
    let deadline = Instant::now() + r.reconnect_wait;
    loop {
        let last_err = tokio::select! {
            biased;
            _ = &mut *stop => return Ok(None),
            res = tokio::time::timeout(Duration::from_secs(10), connect_agent(&url)) => match res {
                Ok(Ok(ok)) => return Ok(Some(ok)),
                Ok(Err(e)) => e,
                Err(_) => "websocket connect timed out (10 s)".into(),
            },
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "socket dropped ({why}) and not resumed within {:.0} s: {last_err}",
                r.reconnect_wait.as_secs_f64()
            ));
        }
        tokio::select! {
            biased;
            _ = &mut *stop => return Ok(None),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_borrowed() {
        let s = r#"{"type":"message.created","seq":7,"data":{"id":"x","waha_id":"false_1@c.us_AB","text":"a\"b"}}"#;
        let f: Frame = serde_json::from_str(s).unwrap();
        assert_eq!(f.ty, "message.created");
        assert_eq!(f.seq, Some(7));
        let d: MsgData = serde_json::from_str(f.data.unwrap().get()).unwrap();
        assert_eq!(d.waha_id.as_deref(), Some("false_1@c.us_AB"));
        assert_eq!(d.bot_id, None);
        let s = r#"{"id":"y","waha_id":null,"bot_id":3,"direction":"out"}"#;
        let d: MsgData = serde_json::from_str(s).unwrap();
        assert_eq!((d.waha_id, d.bot_id), (None, Some(3)));
    }
}
