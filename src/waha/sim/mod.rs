// TEMPORARY compile shim until the simulator branch lands. Never committed.
use std::net::SocketAddr;
pub struct SimOptions {
    pub listen: SocketAddr,
    pub webhook_url: Option<String>,
    pub hmac_key: Option<String>,
    pub api_key: Option<String>,
    pub engine: String,
    pub rate: Option<f64>,
    pub chats: usize,
    pub ack_delay_ms: u64,
    pub pair_delay_ms: u64,
}
impl Default for SimOptions {
    fn default() -> Self {
        todo!()
    }
}
pub struct SimHandle {
    pub addr: SocketAddr,
}
pub async fn start(_o: SimOptions) -> std::io::Result<SimHandle> {
    todo!()
}
