//! A real JSON-RPC server on a socket: CORS (the configured origins get the
//! headers browsers need, others and unconfigured servers get none), and
//! WebSocket subscriptions with geth's ids.

use std::sync::Arc;
use std::time::Duration;

use gont_node::rpc::{self, RpcLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

use super::{NoInfo, fixture};

/// Sends a request of `head` (its request line and headers) and `body` to
/// `addr` and returns the response's head, lowercased.
async fn http(addr: std::net::SocketAddr, head: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("{head}\r\nConnection: close\r\n\r\n{body}").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out).to_lowercase();
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

/// `eth_chainId` from a page of `origin`.
async fn post(addr: std::net::SocketAddr, origin: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: node\r\nOrigin: {origin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}",
        body.len()
    );
    http(addr, &head, body).await
}

async fn serve(cors: &[&str]) -> rpc::RpcServer {
    try_serve(cors).await.unwrap()
}

async fn try_serve(cors: &[&str]) -> Result<rpc::RpcServer, rpc::ServeError> {
    try_serve_with(cors, jsonrpsee::RpcModule::new(())).await
}

/// A server whose method table has `extra` beside the chain's methods.
async fn try_serve_with(
    cors: &[&str],
    extra: jsonrpsee::RpcModule<()>,
) -> Result<rpc::RpcServer, rpc::ServeError> {
    let f = fixture();
    let (blocks, _) = broadcast::channel(4);
    let cors: Vec<String> = cors.iter().map(|&o| o.to_owned()).collect();
    rpc::serve(
        "127.0.0.1:0".parse().unwrap(),
        f.backend.clone(),
        Arc::new(NoInfo),
        blocks,
        RpcLimits::default(),
        None,
        &cors,
        extra,
    )
    .await
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_others_do_not() {
    let server = serve(&["http://localhost:3000"]).await;
    let preflight = http(
        server.addr,
        "OPTIONS / HTTP/1.1\r\nHost: node\r\nOrigin: http://localhost:3000\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type",
        "",
    )
    .await;
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-origin: http://localhost:3000"),
        "{preflight}"
    );
    assert!(
        preflight.contains("access-control-allow-methods: post,get"),
        "{preflight}"
    );
    assert!(
        preflight.contains("access-control-allow-headers: content-type"),
        "{preflight}"
    );

    let allowed = post(server.addr, "http://localhost:3000").await;
    assert!(allowed.starts_with("http/1.1 200"), "{allowed}");
    assert!(
        allowed.contains("access-control-allow-origin: http://localhost:3000"),
        "{allowed}"
    );
    let other = post(server.addr, "http://evil.example").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");

    let any = serve(&["*"]).await;
    let from_anywhere = post(any.addr, "http://evil.example").await;
    assert!(
        from_anywhere.contains("access-control-allow-origin: *"),
        "{from_anywhere}"
    );

    let none = serve(&[]).await;
    let refused = post(none.addr, "http://localhost:3000").await;
    assert!(refused.starts_with("http/1.1 200"), "{refused}");
    assert!(
        !refused.contains("access-control-allow-origin"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_bad_origin_is_refused_at_start() {
    let result = try_serve(&["localhost:3000"]).await;
    assert!(matches!(result, Err(rpc::ServeError::Cors(_))));
}

/// One masked client text frame (RFC 6455), as browsers send.
fn ws_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mask = [0x5a, 0x17, 0xc3, 0x08];
    let mut frame = vec![0x81];
    match u8::try_from(payload.len()) {
        Ok(n) if n <= 125 => frame.push(0x80 | n),
        _ => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads one unmasked server text frame.
async fn ws_read(stream: &mut tokio::net::TcpStream) -> serde_json::Value {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], 0x81, "a final text frame");
    let len = match head[1] & 0x7f {
        126 => {
            let mut n = [0u8; 2];
            stream.read_exact(&mut n).await.unwrap();
            usize::from(u16::from_be_bytes(n))
        }
        127 => panic!("no frame here is that long"),
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// A WebSocket connection to `addr`, past the handshake.
pub(crate) async fn ws_connect(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: node\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

/// Sends `request` as a WebSocket text frame and reads the answer.
pub(crate) async fn ws_call(
    stream: &mut tokio::net::TcpStream,
    request: &str,
) -> serde_json::Value {
    stream.write_all(&ws_frame(request)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), ws_read(stream))
        .await
        .unwrap()
}

#[tokio::test]
async fn subscription_ids_are_hex_strings_as_geths() {
    let server = serve(&[]).await;
    let mut stream = ws_connect(server.addr).await;
    let mut ids = Vec::new();
    for (n, kind) in ["newHeads", "newPendingTransactions"]
        .into_iter()
        .enumerate()
    {
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"eth_subscribe","params":["{kind}"]}}"#);
        let answer = ws_call(&mut stream, &request).await;
        let id = answer["result"].as_str().unwrap_or_default().to_owned();
        assert!(
            id.len() == 34
                && id.starts_with("0x")
                && id[2..].chars().all(|c| c.is_ascii_hexdigit()),
            "{answer}"
        );
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
}

/// `eth_sendRawTransaction` of `raw` over HTTP; the response's body.
pub(crate) async fn send_raw(
    addr: std::net::SocketAddr,
    raw: &gont_core::RawTransaction,
) -> serde_json::Value {
    call(addr, "eth_sendRawTransaction", serde_json::json!([raw.0])).await
}

/// `method` with `params` over HTTP; the response's body (a result or an
/// error object).
pub(crate) async fn call(
    addr: std::net::SocketAddr,
    method: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test]
async fn transactions_without_replay_protection_are_refused_over_rpc_unless_allowed() {
    let (f, server) = super::txpool::serve(gont_node::mempool::MempoolConfig::default()).await;
    let unprotected = {
        let tx = alloy_consensus::TxLegacy {
            chain_id: None,
            nonce: 3,
            gas_price: 10_000_000_000,
            gas_limit: 21_000,
            to: alloy_primitives::TxKind::Call(alloy_primitives::Address::ZERO),
            ..alloy_consensus::TxLegacy::default()
        };
        gont_vm::testing::raw(
            &gont_vm::testing::sign(tx, &gont_vm::testing::dev_key(0).unwrap()).unwrap(),
        )
    };
    let refused = send_raw(server.addr, &unprotected).await;
    assert_eq!(refused["error"]["code"], -32000, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
    assert_eq!(f.backend.pool_len(), 0, "nothing entered the pool");

    f.backend.set_allow_unprotected_txs(true);
    let admitted = send_raw(server.addr, &unprotected).await;
    assert_eq!(
        admitted["result"],
        unprotected.hash().to_string(),
        "{admitted}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_embedders_methods_are_served_beside_the_chains_and_may_not_take_their_names() {
    let mut extra = jsonrpsee::RpcModule::new(());
    extra
        .register_method("myapp_answer", |_, _, _| 42u64)
        .unwrap();
    let server = try_serve_with(&[], extra).await.unwrap();
    let client = gont_node::client::RpcClient::new(server.addr).unwrap();
    let answer = client
        .call("myapp_answer", &serde_json::json!([]))
        .await
        .unwrap();
    assert_eq!(answer, 42);
    let chain = client
        .call("eth_chainId", &serde_json::json!([]))
        .await
        .unwrap();
    assert!(chain.is_string(), "{chain}");

    let mut clash = jsonrpsee::RpcModule::new(());
    clash
        .register_method("eth_chainId", |_, _, _| 1u64)
        .unwrap();
    assert!(
        matches!(
            try_serve_with(&[], clash).await,
            Err(rpc::ServeError::Methods(_))
        ),
        "a second eth_chainId was served"
    );
}
