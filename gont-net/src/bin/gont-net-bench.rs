//! `cargo xtask bench net`: gossip throughput and delivery latency among four
//! local nodes on 127.0.0.1, at 256 B, 4 KiB and 1 MiB messages.
//!
//! Node 0 publishes transactions on one chain; nodes 1–3 receive them,
//! accept them, and record the latency from publish to delivery (one
//! process, one clock). The publisher keeps a bounded window of messages
//! in flight, so the figures describe a loaded but not overflowing network.
//! A TCP loopback copy of the same bytes is measured in the same run as the
//! baseline. `--quick` runs a tenth of the messages.

use std::error::Error;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gont_core::{Bytes, ChainId, RawTransaction};
use gont_net::{
    NetAddr, Network, NetworkConfig, NetworkEvent, NetworkHandle, NodeId, NodeKey, Rate, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};

type BoxError = Box<dyn Error + Send + Sync>;

const CHAIN: ChainId = ChainId(1);
const RECEIVERS: usize = 3;
const BOUND: Duration = Duration::from_secs(60);

struct Case {
    label: &'static str,
    size: usize,
    messages: u64,
    window: usize,
}

const CASES: [Case; 3] = [
    Case {
        label: "256 B",
        size: 256,
        messages: 20_000,
        window: 256,
    },
    Case {
        label: "4 KiB",
        size: 4 * 1024,
        messages: 10_000,
        window: 128,
    },
    Case {
        label: "1 MiB",
        size: 1024 * 1024,
        messages: 200,
        window: 8,
    },
];

fn config(bootstrap: Option<&NetAddr>) -> NetworkConfig {
    let mut config = NetworkConfig::new(NodeKey::generate());
    config.listen = vec![NetAddr::tcp(Ipv4Addr::LOCALHOST.into(), 0)];
    config.bootstrap = bootstrap.into_iter().cloned().collect();
    config.chains = vec![CHAIN];
    config.limits.max_transaction_size = 2 * 1024 * 1024;
    // The benchmark measures the network, not the per-peer rate limits.
    config.limits.gossip_messages = Rate {
        per_second: 1_000_000,
        burst: 1_000_000,
    };
    config.limits.gossip_bytes = Rate {
        per_second: 1 << 40,
        burst: 1 << 40,
    };
    config.event_capacity = 65_536;
    config
}

async fn wait_for<F, Fut>(what: &str, mut cond: F) -> Result<(), BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BoxError>>,
{
    let deadline = Instant::now() + BOUND;
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        poll.tick().await;
        if cond().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
    }
}

/// Payload: sequence number, then send time in ns since `epoch`, then
/// padding up to the size.
fn payload(seq: u64, epoch: Instant, size: usize) -> RawTransaction {
    let sent = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let mut bytes = Vec::with_capacity(size.max(16));
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(&sent.to_le_bytes());
    bytes.resize(size.max(16), 0xab);
    RawTransaction(Bytes::from(bytes))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(slice.try_into().ok()?))
}

struct Delivery {
    seq: u64,
    latency: Duration,
    bytes: usize,
}

/// Receives, accepts and timestamps every transaction of one node.
fn receive(
    handle: NetworkHandle,
    mut events: mpsc::Receiver<NetworkEvent>,
    epoch: Instant,
    out: mpsc::UnboundedSender<Delivery>,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetworkEvent::Transaction { tx, msg_id, .. } = event {
                let now = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                if let (Some(seq), Some(sent)) = (read_u64(&tx.0, 0), read_u64(&tx.0, 8)) {
                    let latency = Duration::from_nanos(now.saturating_sub(sent));
                    let bytes = tx.0.len();
                    if out
                        .send(Delivery {
                            seq,
                            latency,
                            bytes,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
                if handle.report(msg_id, Verdict::Accept).await.is_err() {
                    return;
                }
            }
        }
    });
}

struct Row {
    label: &'static str,
    messages: u64,
    msgs_per_sec: f64,
    mb_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let last = sorted.len().saturating_sub(1);
    sorted
        .get(last.saturating_mul(p) / 100)
        .copied()
        .unwrap_or_default()
}

async fn run_case(
    publisher: &NetworkHandle,
    deliveries: &mut mpsc::UnboundedReceiver<Delivery>,
    case: &Case,
    messages: u64,
    epoch: Instant,
) -> Result<Row, BoxError> {
    let window = Arc::new(Semaphore::new(case.window));
    let first = Instant::now();
    let sender = {
        let publisher = publisher.clone();
        let window = Arc::clone(&window);
        let size = case.size;
        tokio::spawn(async move {
            for seq in 0..messages {
                window.acquire().await?.forget();
                publisher
                    .publish_tx(CHAIN, &payload(seq, epoch, size))
                    .await?;
            }
            Ok::<(), BoxError>(())
        })
    };
    let mut counts = vec![0usize; usize::try_from(messages)?];
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    let mut complete = 0u64;
    let deadline = tokio::time::Instant::now() + BOUND;
    while complete < messages {
        let delivery = tokio::time::timeout_at(deadline, deliveries.recv())
            .await
            .map_err(|_| {
                format!(
                    "{}: only {complete} of {messages} delivered in time",
                    case.label
                )
            })?
            .ok_or("receivers stopped")?;
        let Some(count) = usize::try_from(delivery.seq)
            .ok()
            .and_then(|i| counts.get_mut(i))
        else {
            continue; // a late message of the previous case
        };
        *count += 1;
        latencies.push(delivery.latency);
        bytes = bytes.saturating_add(delivery.bytes);
        if *count == RECEIVERS {
            complete += 1;
            window.add_permits(1);
        }
    }
    let elapsed = first.elapsed().as_secs_f64();
    sender.await??;
    latencies.sort_unstable();
    let (msgs, mb) = (messages as f64, bytes as f64 / 1e6);
    Ok(Row {
        label: case.label,
        messages,
        msgs_per_sec: msgs / elapsed,
        mb_per_sec: mb / elapsed,
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
    })
}

/// Baseline: the same bytes copied over one plain TCP loopback connection.
async fn tcp_baseline(size: usize, messages: u64) -> Result<f64, BoxError> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let total = u64::try_from(size)?.saturating_mul(messages);
    let reader = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0u64;
        while got < total {
            let n = socket.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got += u64::try_from(n)?;
        }
        Ok::<u64, BoxError>(got)
    });
    let start = Instant::now();
    let mut socket = tokio::net::TcpStream::connect(addr).await?;
    let chunk = vec![0xab; size];
    for _ in 0..messages {
        socket.write_all(&chunk).await?;
    }
    socket.flush().await?;
    let got = reader.await??;
    Ok(got as f64 / 1e6 / start.elapsed().as_secs_f64())
}

async fn run(quick: bool) -> Result<(), BoxError> {
    let epoch = Instant::now();
    let (publisher, _publisher_events) = Network::spawn(config(None)).await?;
    let bootstrap = publisher
        .listen_addrs()
        .await?
        .first()
        .ok_or("no listen address")?
        .with_node(publisher.local_id());
    let (tx, mut deliveries) = mpsc::unbounded_channel();
    let mut receivers: Vec<NodeId> = Vec::new();
    for _ in 0..RECEIVERS {
        let (handle, events) = Network::spawn(config(Some(&bootstrap))).await?;
        receivers.push(handle.local_id());
        receive(handle, events, epoch, tx.clone());
    }
    let (publisher_ref, receivers_ref) = (&publisher, &receivers);
    wait_for("the receivers to subscribe", move || async move {
        let peers = publisher_ref.peers().await?;
        Ok(receivers_ref.iter().all(|r| {
            peers
                .iter()
                .any(|p| p.id == *r && p.chains.contains(&CHAIN))
        }))
    })
    .await?;

    let mut rows = Vec::new();
    for case in &CASES {
        let messages = if quick {
            (case.messages / 10).max(10)
        } else {
            case.messages
        };
        let row = run_case(&publisher, &mut deliveries, case, messages, epoch).await?;
        let baseline = tcp_baseline(case.size, messages).await?;
        rows.push((row, baseline));
        // Drain what a previous case may still deliver.
        while deliveries.try_recv().is_ok() {}
    }

    println!(
        "gossip among 4 nodes on 127.0.0.1 (1 publisher, {RECEIVERS} receivers; TCP+Noise+Yamux, gossipsub, signed)"
    );
    println!();
    println!(
        "| size  | messages | msgs/s (to all 3) | MB/s delivered | p50 latency | p99 latency | baseline: raw TCP copy MB/s |"
    );
    println!(
        "|-------|---------:|------------------:|---------------:|------------:|------------:|----------------------------:|"
    );
    for (row, baseline) in rows {
        println!(
            "| {:<5} | {:>8} | {:>17.0} | {:>14.1} | {:>11} | {:>11} | {:>27.0} |",
            row.label,
            row.messages,
            row.msgs_per_sec,
            row.mb_per_sec,
            format!("{:.2} ms", row.p50.as_secs_f64() * 1e3),
            format!("{:.2} ms", row.p99.as_secs_f64() * 1e3),
            baseline,
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gont-net-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(quick)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gont-net-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
