//! The websocket upgrade: a request with `Upgrade: websocket` leaves actix-http's HTTP/1
//! dispatcher here, with its connection. It is answered by the same app as any request
//! (middleware, auth, the one error mapping: `ws::connect` decides), then:
//!
//! - a 101 from `ws::connect` carries the agent it accepted: the answer is written, the
//!   connection's HTTP buffers are dropped and the agent runs the websocket on the bare
//!   TCP stream (tungstenite, `actors::agent::socket`), starting from the bytes the client
//!   may already have sent;
//! - any other answer (401, 403, 400, 503, a 404 elsewhere) is written and the connection
//!   closed, as the request asked to leave HTTP.
//!
//! The connection then no longer belongs to the server's worker (its task, with the
//! HTTP dispatcher's state, is freed): shutdown waits for the agents' sockets through the
//! fanout's count of open sockets instead (`app::RunningApp`).

use std::rc::Rc;

use actix_codec::Framed;
use actix_http::body::{self, BodySize, MessageBody};
use actix_http::{h1, ConnectionType, Request, Response, StatusCode};
use actix_service::Service;
use actix_web::dev::ServiceResponse;
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

use super::ws::Accepted;
use crate::actors::agent::socket_config;

/// Answers an upgrade request through `app`, then runs the websocket it accepted.
pub async fn serve<S, B>(
    app: Rc<S>,
    req: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> Result<(), std::convert::Infallible>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let mut res: Response<body::BoxBody> = match app.call(req).await {
        Ok(res) => res.map_into_boxed_body().into(),
        Err(e) => e.error_response().into(),
    };
    drop(app);
    let accepted = res.extensions_mut().remove::<Accepted>();
    let (mut head, body) = res.into_parts();
    match accepted {
        Some(Accepted(agent)) if head.status() == StatusCode::SWITCHING_PROTOCOLS => {
            if let Err(e) = framed.send(h1::Message::Item((head, BodySize::None))).await {
                debug!(error = %e, "could not answer a websocket upgrade");
                return Ok(());
            }
            let parts = framed.into_parts();
            // What the client sent after its handshake is the websocket's first bytes.
            let early = parts.read_buf.to_vec();
            drop(parts.read_buf);
            drop(parts.write_buf);
            let ws = WebSocketStream::from_partially_read(
                parts.io,
                early,
                Role::Server,
                Some(socket_config()),
            )
            .await;
            agent.start_on(ws);
        }
        _ => {
            let bytes = match body::to_bytes(body).await {
                Ok(b) => b,
                Err(e) => {
                    debug!(error = %e, "could not read an upgrade's answer");
                    return Ok(());
                }
            };
            head.head_mut().set_connection_type(ConnectionType::Close);
            let sent = async {
                let size = BodySize::Sized(bytes.len() as u64);
                framed.feed(h1::Message::Item((head, size))).await?;
                if !bytes.is_empty() {
                    framed.feed(h1::Message::Chunk(Some(bytes))).await?;
                }
                // `send` flushes the codec's buffer; `close` alone would not.
                framed.send(h1::Message::Chunk(None)).await?;
                framed.close().await
            };
            if let Err(e) = sent.await {
                debug!(error = %e, "could not answer a refused upgrade");
            }
        }
    }
    Ok(())
}
