//! The websocket upgrade leaves actix-http for tungstenite on the bare TCP stream
//! (docs/architecture.md, "Agents' sockets"): what a client sends with its handshake is
//! not lost, websocket-level pings and the close handshake are answered, and an upgrade
//! request elsewhere gets the app's own answer.

mod common;

use std::time::Duration;

use common::{Backend, Setup};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client's text frame (masked, as RFC 6455 requires of clients).
fn masked_text(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "a short frame");
    let key = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

async fn next_json(ws: &mut WebSocketStream<TcpStream>) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .expect("websocket read");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("frames are JSON");
        }
    }
}

async fn frames_sent_with_the_handshake_are_read(b: Backend) {
    let s = Setup::new(b).await;
    let addr = s.hub.url.trim_start_matches("http://").to_string();
    let mut tcp = TcpStream::connect(&addr).await.expect("connect");
    let mut bytes = format!(
        "GET /ws?token={} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        s.token
    )
    .into_bytes();
    // A command in the same write as the handshake: it reaches the hub with it.
    bytes.extend(masked_text(br#"{"type":"ping","ref":"early"}"#));
    tcp.write_all(&bytes).await.expect("write");

    let mut head = Vec::new();
    let end = loop {
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "the hub closed the connection: {head:?}");
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_lowercase();
    assert!(text.starts_with("http/1.1 101"), "{text}");
    // RFC 6455's example key and its answer.
    assert!(
        text.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{text}"
    );
    let mut ws =
        WebSocketStream::from_partially_read(tcp, head[end..].to_vec(), Role::Client, None).await;
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    let pong = next_json(&mut ws).await;
    assert_eq!(pong["type"], "pong", "{pong}");
    assert_eq!(pong["data"]["ref"], "early", "{pong}");
}
both!(frames_sent_with_the_handshake_are_read);

async fn pings_and_close_are_answered(b: Backend) {
    let s = Setup::new(b).await;
    let url = format!(
        "{}/ws?token={}",
        s.hub.url.replacen("http://", "ws://", 1),
        s.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("ping");
    let pong = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open")
            .expect("read");
        if let Message::Pong(p) = msg {
            break p;
        }
    };
    assert_eq!(&pong[..], b"are you there");

    ws.close(None).await.expect("close");
    // The hub answers the close: the stream then ends without an error.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Ok(()),
            }
        }
    })
    .await
    .expect("the hub ends the connection within 10 s");
    assert_eq!(end, Ok(()), "a clean close handshake");
}
both!(pings_and_close_are_answered);

async fn an_upgrade_elsewhere_gets_the_apps_answer(b: Backend) {
    let s = Setup::new(b).await;
    let ws = s.hub.url.replacen("http://", "ws://", 1);
    // Not the websocket: the app answers as it would any request, here 401 without a token.
    match tokio_tungstenite::connect_async(format!("{ws}/api/auth/me")).await {
        Ok(_) => panic!("an upgrade of /api/auth/me was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 401);
            let body = resp.body().as_deref().unwrap_or_default();
            let v: Value = serde_json::from_slice(body).expect("the JSON error body");
            assert!(v["error"]["code"].is_string(), "{v}");
        }
        Err(e) => panic!("expected an HTTP answer, got {e}"),
    }
    // And the hub still serves the next connection's requests.
    let (code, me) = s.get("/api/auth/me").await;
    assert_eq!(code, 200, "{me}");
}
both!(an_upgrade_elsewhere_gets_the_apps_answer);
