//! `gont verify account`: prints what `gont_node::verify` proved, or names
//! the link that broke (exit status 1).

use std::net::SocketAddr;

use anyhow::{Context, Result, anyhow, bail};
use gont_core::BlockId;
use gont_node::verify::{self, Request};

/// `http://HOST:PORT[/]` or `HOST:PORT` as a socket address.
pub(crate) fn endpoint(url: &str) -> Result<SocketAddr> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    rest.parse().with_context(|| {
        format!("{url:?} is not http://IP:PORT (only plain HTTP on an IP address)")
    })
}

/// `HEIGHT:HASH`.
pub(crate) fn trust(text: &str) -> Result<(u64, BlockId)> {
    let Some((height, hash)) = text.split_once(':') else {
        bail!("--trust {text:?} is not HEIGHT:HASH");
    };
    let height = height
        .parse()
        .with_context(|| format!("--trust: height {height:?}"))?;
    let hash = hash
        .parse()
        .with_context(|| format!("--trust: block hash {hash:?}"))?;
    Ok((height, hash))
}

/// Runs the verification and prints its result.
pub(crate) fn run(request: &Request) -> Result<()> {
    // The error names the link; its sources are already in its text.
    let verified =
        verify::verify_account(request).map_err(|e| anyhow!("verification failed: {e}"))?;
    match verified.genesis_hash {
        Some(hash) => println!(
            "trusted: the GONT Space genesis {hash} as served by http://{} (compare it with the hash you expect, or pass --trust HEIGHT:HASH)",
            request.space
        ),
        None => println!("trusted: the Space block given by --trust"),
    }
    println!(
        "GONT Space height {} verified by light client",
        verified.space_height
    );
    println!(
        "service {} ({}): checkpoint of height {} anchored at Space height {}, state root {}",
        verified.service_name,
        verified.service.0,
        verified.service_height,
        verified.anchored_at,
        verified.state_root
    );
    println!(
        "verified: account {} on {} at height {}",
        request.address, verified.service_name, verified.service_height
    );
    match verified.account {
        Some(account) => {
            println!("  balance    {} wei", account.balance);
            println!("  nonce      {}", account.nonce.to::<u64>());
            println!("  code hash  {}", account.code_hash);
        }
        None => println!("  (no such account: balance 0, nonce 0, no code)"),
    }
    for (slot, value) in &verified.slots {
        println!("  slot {slot:#x} = {value:#x}");
    }
    Ok(())
}
