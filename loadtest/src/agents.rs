//! The agents' websocket readers: connecting and checking `hello`, then matching every
//! `message.created` frame to its webhook and timing it ([`AgentStats`]).

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

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
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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
    pub closed: Option<String>,
}

pub async fn connect_agent(ws_url: &str) -> Result<(Ws, Option<u64>), String> {
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
    let data_seq = f
        .data
        .and_then(|d| serde_json::from_str::<HelloData>(d.get()).ok())
        .and_then(|d| d.seq);
    Ok((ws, data_seq.or(f.seq)))
}

pub async fn read_agent(
    agent: usize,
    mut ws: Ws,
    mut last_seq: Option<u64>,
    run: Arc<Run>,
    mut stop: oneshot::Receiver<()>,
) -> AgentStats {
    let mut st = AgentStats {
        lat_us: new_hist(),
        seen: vec![0u64; run.total.div_ceil(64)],
        frames: 0,
        bad_frames: 0,
        duplicates: 0,
        seq_errors: 0,
        unexpected: 0,
        bot_frames: 0,
        closed: None,
    };
    let counter = &run.counters[agent];
    loop {
        let msg = tokio::select! {
            biased;
            _ = &mut stop => break,
            m = ws.next() => m,
        };
        let arrived = Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                st.closed = Some(format!("closed by server: {c:?}"));
                continue; // the stream ends after the close handshake
            }
            Some(Ok(_)) => continue, // ping/pong (answered by tungstenite), binary
            Some(Err(e)) => {
                st.closed
                    .get_or_insert_with(|| format!("websocket error: {e}"));
                break;
            }
            None => {
                st.closed.get_or_insert_with(|| "websocket closed".into());
                break;
            }
        };
        st.frames += 1;
        let Ok(f) = serde_json::from_str::<Frame>(text.as_str()) else {
            st.bad_frames += 1;
            continue;
        };
        if let Some(seq) = f.seq {
            if matches!(last_seq, Some(l) if seq <= l) {
                st.seq_errors += 1;
            }
            last_seq = Some(seq);
        }
        if f.ty != "message.created" {
            continue;
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
        if i >= run.warm {
            let at = (arrived - run.base).as_nanos() as u64;
            let lat_ns = at.saturating_sub(sent - 1);
            st.lat_us.saturating_record((lat_ns / 1000).max(1));
            counter.measured.fetch_add(1, Ordering::Relaxed);
        } else {
            counter.warm.fetch_add(1, Ordering::Relaxed);
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    st
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
