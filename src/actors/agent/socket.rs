//! An agent's websocket, driven inside its actor's own context: no task, timer or buffer
//! of its own beyond tungstenite's. Handlers queue frames; one writer feeds every queued
//! frame to tungstenite, then flushes once, so a burst for one socket leaves in as few
//! writes as its size allows. The reader hands each incoming message to the actor.
//!
//! Why not actix-http's websocket: it keeps the connection's 8 KiB read and write buffers
//! for the socket's whole life. Here an idle socket holds a 1 KiB read buffer and its
//! queue's memory is given back once it is empty (docs/architecture.md).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use actix::fut::ActorFuture;
use actix::prelude::*;
use futures_util::{Sink, Stream};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

pub type Ws = WebSocketStream<TcpStream>;

/// Commands are small: one read usually takes a whole one; a bigger frame grows the buffer
/// for as long as it is being read.
const READ_BUFFER: usize = 1024;
/// Frames queued past this many bytes are written before the flush (one write per batch).
const WRITE_BATCH: usize = 8 * 1024;
/// 64 KiB messages are plenty for commands; a bigger one is a protocol error.
const MAX_MESSAGE: usize = 64 * 1024;
/// A queue this long when it empties is given back rather than kept for the next burst.
const KEEP_QUEUE: usize = 8;

/// The websocket settings for agents' sockets.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BATCH)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// What the actor owning a socket is told.
pub trait SocketHandler: Actor<Context = Context<Self>> {
    /// A message from the client.
    fn received(&mut self, msg: Message, ctx: &mut Context<Self>);
    /// The connection ended or failed; nothing more can be written.
    fn ended(&mut self, ctx: &mut Context<Self>);
}

/// The actor's handle on its socket.
pub struct Socket {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    ws: Ws,
    queue: VecDeque<Message>,
    /// Something was handed to tungstenite since the last finished flush.
    unflushed: bool,
    /// The last write could not finish: the client is not reading fast enough.
    blocked: bool,
    /// A close frame is queued; nothing is written after it.
    closing: bool,
    /// The writer, idle until something is queued.
    writer: Option<Waker>,
}

impl Inner {
    /// Feeds what is queued, then flushes. `Ready(Ok)`: everything is on the wire.
    fn poll_write(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), WsError>> {
        while !self.queue.is_empty() {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    if let Some(msg) = self.queue.pop_front() {
                        Pin::new(&mut self.ws).start_send(msg)?;
                        self.unflushed = true;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.blocked = true;
                    return Poll::Pending;
                }
            }
        }
        if self.queue.capacity() > KEEP_QUEUE {
            self.queue = VecDeque::new();
        }
        if !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.ws).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                self.blocked = false;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                self.blocked = true;
                Poll::Pending
            }
        }
    }
}

impl Socket {
    /// Starts writing `ws` in the actor's context; reading starts with `start_reading`.
    pub fn start<A: SocketHandler>(ws: Ws, ctx: &mut Context<A>) -> Socket {
        let inner = Rc::new(RefCell::new(Inner {
            ws,
            queue: VecDeque::new(),
            unflushed: false,
            blocked: false,
            closing: false,
            writer: None,
        }));
        ctx.spawn(Writer {
            inner: inner.clone(),
        });
        Socket { inner }
    }

    /// Hands the client's messages to the actor from now on (until then they wait in the
    /// kernel's buffer: a command sent with the handshake is answered after `hello`).
    pub fn start_reading<A: SocketHandler>(&self, ctx: &mut Context<A>) {
        ctx.spawn(Reader {
            inner: self.inner.clone(),
        });
    }

    /// Queues a frame; the writer sends it after the handlers at hand have run.
    pub fn send(&self, msg: Message) {
        let mut inner = self.inner.borrow_mut();
        if inner.closing {
            return;
        }
        inner.closing = matches!(msg, Message::Close(_));
        inner.queue.push_back(msg);
        Self::wake(&mut inner);
    }

    /// Has the writer flush what tungstenite queued by itself (a pong, a close reply).
    pub fn flush(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.unflushed = true;
        Self::wake(&mut inner);
    }

    fn wake(inner: &mut Inner) {
        if let Some(w) = inner.writer.take() {
            w.wake();
        }
    }

    /// The client is behind: the last write did not finish.
    pub fn is_blocked(&self) -> bool {
        self.inner.borrow().blocked
    }

    /// Writes everything queued; the actor handles nothing else meanwhile (use with
    /// `ctx.wait`). `true` once all is written (or the connection failed, which the writer
    /// then reports), `false` when `limit` passed first.
    pub fn drain<A: SocketHandler>(&self, limit: Duration) -> impl ActorFuture<A, Output = bool> {
        Drain {
            inner: self.inner.clone(),
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

struct Reader {
    inner: Rc<RefCell<Inner>>,
}

impl<A: SocketHandler> ActorFuture<A> for Reader {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut Context<A>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<()> {
        loop {
            if ctx.waiting() {
                // The actor waits for its writes (`Socket::drain`): read on after that.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // The borrow ends before the actor runs: its handler may queue a reply.
            let next = Pin::new(&mut self.inner.borrow_mut().ws).poll_next(cx);
            match next {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(msg))) => act.received(msg, ctx),
                Poll::Ready(Some(Err(e))) => {
                    debug!(error = %e, "websocket read failed");
                    act.ended(ctx);
                    return Poll::Ready(());
                }
                Poll::Ready(None) => {
                    act.ended(ctx);
                    return Poll::Ready(());
                }
            }
        }
    }
}

struct Writer {
    inner: Rc<RefCell<Inner>>,
}

impl<A: SocketHandler> ActorFuture<A> for Writer {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut Context<A>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let mut inner = self.inner.borrow_mut();
        match inner.poll_write(cx) {
            Poll::Ready(Ok(())) => {
                if !inner
                    .writer
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    inner.writer = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                drop(inner);
                debug!(error = %e, "websocket write failed");
                act.ended(ctx);
                Poll::Ready(())
            }
        }
    }
}

struct Drain {
    inner: Rc<RefCell<Inner>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<A: SocketHandler> ActorFuture<A> for Drain {
    type Output = bool;

    fn poll(
        mut self: Pin<&mut Self>,
        _: &mut A,
        _: &mut Context<A>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<bool> {
        let written = self.inner.borrow_mut().poll_write(cx);
        match written {
            Poll::Ready(_) => Poll::Ready(true),
            Poll::Pending => self.deadline.as_mut().poll(cx).map(|()| false),
        }
    }
}
