//! The shutdown signal threaded through every background task.

use tokio::sync::watch;

/// Held by the app; `trigger` tells every [`Shutdown`] listener to stop.
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Given to each background task: `wait` returns once shutdown has begun.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which is shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `d`; `false` when shutdown began first.
    pub async fn sleep(&mut self, d: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.wait() => false,
        }
    }
}
