//! Load and validate a genesis, and show the precise errors of a broken one.
//!
//! ```text
//! cargo run -p gont-core --example genesis                  # a devnet genesis, then a broken copy
//! cargo run -p gont-core --example genesis -- genesis.json  # a file of yours
//! ```
//!
//! With a file, the exit code is 1 when it does not parse or validate.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use gont_core::{Genesis, Stake, Timestamp};

fn main() -> ExitCode {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(Timestamp(0), |d| {
            Timestamp(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        });
    if let Some(path) = std::env::args().nth(1) {
        let json = match std::fs::read_to_string(&path) {
            Ok(json) => json,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        return if check(&path, &json, now) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    // A development genesis (4 Space validators, 2 services), through JSON
    // and back, as a node reads its `genesis.json`.
    let good = Genesis::devnet(4, 2).to_json();
    check("devnet genesis", &good, now);

    // The same genesis with four mistakes: each is reported at its path.
    let mut broken = Genesis::devnet(4, 2);
    let mut validators = broken.validators.iter_mut();
    if let (Some(first), Some(second), Some(third)) =
        (validators.next(), validators.next(), validators.next())
    {
        second.consensus_key = first.consensus_key; // one key, two validators
        third.stake = Stake(5); // less than one whole token
    }
    if let Some(service) = broken.services.last_mut() {
        service.participants.clear(); // nobody to validate it
        service.chain_id = broken.chain_id; // the Space's chain id
    }
    check("broken copy", &broken.to_json(), now);

    // JSON that does not fit the schema names the field it stopped at.
    let typo = good.replacen("\"target_block_time_ms\"", "\"target_block_time\"", 1);
    check("misspelt field", &typo, now);
    ExitCode::SUCCESS
}

/// Parses and validates `json`, printing what it found; true when valid.
fn check(name: &str, json: &str, now: Timestamp) -> bool {
    let genesis = match Genesis::from_json(json) {
        Ok(genesis) => genesis,
        Err(e) => {
            println!("{name}: does not parse: {e}");
            return false;
        }
    };
    if let Err(errors) = genesis.validate(now) {
        println!("{name}: {errors}");
        return false;
    }
    println!(
        "{name}: valid, hash {}, Space chain id {}, {} validators",
        genesis.hash(),
        genesis.chain_id,
        genesis.validators.len()
    );
    for service in &genesis.services {
        println!(
            "  service {} {:?}: chain id {}, {} participants",
            service.id,
            service.name,
            service.chain_id,
            service.participants.len()
        );
    }
    true
}
