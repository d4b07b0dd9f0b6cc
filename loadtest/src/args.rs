//! The command line: every flag, its default and its help text.

use clap::Parser;

/// Open-loop WAHA webhook -> websocket fan-out load test for tickhub.
#[derive(Parser, Debug, Clone)]
#[command(name = "loadtest", version, about, long_about = None)]
pub struct Args {
    /// Base URL of the hub (http://host:port): logins, webhooks, reconnecting sockets. In a
    /// cluster: the load balancer
    #[arg(
        long,
        visible_alias = "hub-url",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// Base URL the webhooks are POSTed to (default: --url); e.g. one node of a cluster, to
    /// see what forwarding to the session's owner costs
    #[arg(long)]
    pub hook_url: Option<String>,
    /// Base URLs the agents' websockets connect to, round robin (default: --url); e.g. every
    /// node of a cluster directly, so agents sit on every node
    #[arg(long, value_delimiter = ',')]
    pub ws_urls: Vec<String>,
    /// Login email (an admin or manager, so it receives every event of the session)
    #[arg(long, default_value = "bench@acme.test")]
    pub email: String,
    /// Login password
    #[arg(long, default_value = "s3cret-Passw0rd")]
    pub password: String,
    /// Websocket connections (agents), all with the one login
    #[arg(long, default_value_t = 50)]
    pub agents: usize,
    /// Webhooks per second (open loop)
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of measured sending
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Distinct customer chats the messages are spread over
    #[arg(long, default_value_t = 200)]
    pub chats: usize,
    /// WAHA session name in the webhooks (registered with POST /api/sessions first)
    #[arg(long, default_value = "default")]
    pub session: String,
    /// Sign each body as WAHA does: X-Webhook-Hmac = hex HMAC-SHA512 of the raw body
    #[arg(long)]
    pub hmac_key: Option<String>,
    /// Unmeasured webhooks sent first at the same rate
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Keep-alive HTTP connections = maximum webhook requests in flight
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Append the JSON summary line to this file
    #[arg(long)]
    pub json_out: Option<String>,
    /// Name of this run in the output
    #[arg(long, default_value = "tickhub")]
    pub label: String,
    /// During the measured phase, agent 0 changes the member's presence this many times
    /// (busy, online, busy, …, evenly spaced) and every other socket times the matching
    /// `presence.updated`
    #[arg(long, default_value_t = 0)]
    pub presence: usize,
    /// Re-POST a webhook answered 5xx or not answered at all, this many times (WAHA retries;
    /// 0 = an error is final). The latency still counts from the first POST
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// Seconds an agent whose socket dropped keeps trying to reconnect (through --url, with
    /// `since`) before it gives up
    #[arg(long, default_value_t = 30.0)]
    pub reconnect_wait: f64,
    /// Write `measure <unix ms>` to this file when the measured phase starts and append
    /// `drained <unix ms>` once its deliveries are in (for scripts that act at a point of the
    /// run — kill a node — or measure CPU over the same window)
    #[arg(long)]
    pub phase_file: Option<String>,
    /// Seconds to wait for outstanding deliveries once every webhook has been answered
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// Per-request timeout of a webhook POST, seconds (a timeout counts as an HTTP error)
    #[arg(long, default_value_t = 30.0)]
    pub post_timeout: f64,
    /// Before the run, give the session a bot answering every customer message; after it,
    /// check with the simulator (--sim-url) that each webhook got exactly one reply
    #[arg(long, requires = "sim_url")]
    pub bot: bool,
    /// Base URL of the WAHA simulator the hub sends through (`tickhub waha-sim`), for --bot
    #[arg(long)]
    pub sim_url: Option<String>,
    /// With --bot: seconds to wait, after the deliveries, for the simulator to have sent every reply
    #[arg(long, default_value_t = 60.0)]
    pub reply_wait: f64,
    /// Also subscribe an outbound webhook (`message.created`) listening on this address,
    /// e.g. `127.0.0.1:0`, and check every message of the run reaches it (issue 19)
    #[arg(long)]
    pub hook_sink: Option<String>,
}
