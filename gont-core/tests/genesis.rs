//! Genesis: JSON round trip, one test per validation error kind, the pinned
//! hash, and the development accounts.

// Test helpers may unwrap and index: a failure is the test failing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use gont_core::genesis::{
    DEV_ADDRESSES, DEV_MNEMONIC, DEV_OPERATOR_ADDRESSES, DEV_OPERATOR_KEYS, DEV_PRIVATE_KEYS,
    DevnetChain, devnet_validator_key,
};
use gont_core::{ConsensusKey, Genesis, GenesisErrorKind, Stake, Timestamp};

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-24T00:00:00Z").unwrap()
}

/// The one error of `genesis`, which must have exactly one.
fn only_error(genesis: &Genesis) -> (String, GenesisErrorKind, String) {
    let errors = genesis
        .validate(now())
        .expect_err("genesis must be refused");
    assert_eq!(errors.0.len(), 1, "expected one mistake, got: {errors}");
    let e = errors.0[0].clone();
    (e.path.clone(), e.kind.clone(), e.to_string())
}

fn json_error(json: &str) -> (String, String) {
    let e = Genesis::from_json(json).expect_err("json must be refused");
    assert!(matches!(e.kind, GenesisErrorKind::Json(_)), "{e}");
    (e.path.clone(), e.to_string())
}

#[test]
fn devnet_genesis_is_valid_and_round_trips_through_json() {
    for (v, s) in [(1, 0), (4, 1), (7, 3)] {
        let g = Genesis::devnet(v, s);
        g.validate(now()).unwrap();
        let back = Genesis::from_json(&g.to_json()).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.hash(), g.hash());
        assert_eq!(g.services.len(), s);
    }
}

#[test]
fn devnet_services_are_run_by_a_strict_subset_of_the_nodes() {
    let g = Genesis::devnet(4, 2);
    let space_ops: Vec<_> = g.validators.iter().map(|v| v.operator).collect();
    for service in &g.services {
        assert_eq!(service.participants.len(), 3);
        assert!(
            service
                .participants
                .iter()
                .all(|p| space_ops.contains(&p.operator))
        );
        // Service keys are the service's own, never the Space's.
        assert!(service.participants.iter().all(|p| {
            g.validators
                .iter()
                .all(|v| v.consensus_key != p.consensus_key)
        }));
        assert_ne!(service.chain_id, g.chain_id);
    }
    assert_ne!(g.services[0].participants, g.services[1].participants);
}

#[test]
fn genesis_hash_is_pinned() {
    // A change of this value is a change of the canonical encoding or of the
    // devnet, and so of every devnet's identity: make it on purpose.
    assert_eq!(
        Genesis::devnet(4, 1).hash().to_string(),
        "0x8f173384c4aa88bc19df3a1936ec2f69d52ea7cc73867706f940ba8b10d25ede"
    );
}

#[test]
fn dev_accounts_are_the_well_known_ones_of_the_test_mnemonic() {
    // BIP-39 seed of the mnemonic with an empty passphrase.
    let seed =
        pbkdf2::pbkdf2_hmac_array::<sha2::Sha512, 64>(DEV_MNEMONIC.as_bytes(), b"mnemonic", 2048);
    let accounts = DEV_PRIVATE_KEYS
        .iter()
        .zip(DEV_ADDRESSES)
        .chain(DEV_OPERATOR_KEYS.iter().zip(DEV_OPERATOR_ADDRESSES));
    for (i, (key_hex, address)) in accounts.enumerate() {
        let path: bip32::DerivationPath = format!("m/44'/60'/0'/0/{i}").parse().unwrap();
        let derived = bip32::XPrv::derive_from_path(seed, &path).unwrap();
        let secret = derived.private_key().to_bytes();
        assert_eq!(
            format!("0x{}", alloy_primitives::hex::encode(secret)),
            *key_hex,
            "key {i}"
        );
        let signing = k256::ecdsa::SigningKey::from_slice(&secret).unwrap();
        assert_eq!(
            alloy_primitives::Address::from_private_key(&signing),
            address,
            "address {i}"
        );
    }
}

#[test]
fn devnet_validator_keys_are_deterministic_and_distinct_per_chain() {
    let a = devnet_validator_key(DevnetChain::Space, 0).verification_key();
    assert_eq!(
        a,
        devnet_validator_key(DevnetChain::Space, 0).verification_key()
    );
    assert_ne!(
        a,
        devnet_validator_key(DevnetChain::Space, 1).verification_key()
    );
    assert_ne!(
        a,
        devnet_validator_key(DevnetChain::Service(gont_core::ServiceId(1)), 0).verification_key()
    );
}

#[test]
fn refuses_duplicate_validator_key() {
    let mut g = Genesis::devnet(3, 0);
    g.validators[2].consensus_key = g.validators[0].consensus_key;
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "validators[2].consensus_key");
    assert!(
        matches!(kind, GenesisErrorKind::DuplicateValidator { ref first, .. } if first == "validators[0].consensus_key")
    );
    assert!(
        msg.contains("is already used at validators[0].consensus_key"),
        "{msg}"
    );
}

#[test]
fn refuses_duplicate_operator_address() {
    let mut g = Genesis::devnet(3, 0);
    g.validators[1].operator = g.validators[0].operator;
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "validators[1].operator");
    assert!(matches!(kind, GenesisErrorKind::DuplicateOperator { .. }));
    assert!(
        msg.contains("operator 0xBcd4042DE499D14e55001CcbB24a551F3b954096 is already used"),
        "{msg}"
    );
}

#[test]
fn refuses_duplicate_funded_account() {
    let mut g = Genesis::devnet(1, 1);
    let dup = g.services[0].accounts[0].clone();
    g.services[0].accounts.push(dup);
    let (path, kind, _) = only_error(&g);
    assert_eq!(path, "services[0].accounts[20].address");
    assert!(
        matches!(kind, GenesisErrorKind::DuplicateAccount { ref first, .. } if first == "services[0].accounts[0].address")
    );
}

#[test]
fn refuses_zero_stake() {
    let mut g = Genesis::devnet(2, 0);
    g.validators[1].stake = Stake(999);
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "validators[1].stake");
    assert_eq!(kind, GenesisErrorKind::ZeroStake { stake: Stake(999) });
    assert!(
        msg.contains("stake 999 is less than one whole token"),
        "{msg}"
    );
}

#[test]
fn refuses_overflowing_total_stake() {
    let mut g = Genesis::devnet(2, 0);
    for v in &mut g.validators {
        v.stake = Stake(u128::MAX / 2);
    }
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "validators");
    assert_eq!(kind, GenesisErrorKind::TotalStakeOverflow);
    assert!(msg.contains("exceeds the maximum voting power"), "{msg}");
}

#[test]
fn refuses_a_space_without_validators() {
    let (path, kind, _) = only_error(&Genesis::devnet(0, 0));
    assert_eq!(path, "validators");
    assert_eq!(kind, GenesisErrorKind::NoValidators);
}

#[test]
fn refuses_a_service_without_participants() {
    let mut g = Genesis::devnet(4, 1);
    g.services[0].participants.clear();
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "services[0].participants");
    assert_eq!(
        kind,
        GenesisErrorKind::NoParticipants {
            name: "example-1".into()
        }
    );
    assert!(msg.contains("has no participants"), "{msg}");
}

#[test]
fn refuses_chain_id_collision_between_space_and_service() {
    let mut g = Genesis::devnet(4, 2);
    g.services[1].chain_id = g.chain_id;
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "services[1].chain_id");
    assert!(
        matches!(kind, GenesisErrorKind::ChainIdCollision { ref first, .. } if first == "chain_id")
    );
    assert!(
        msg.contains("chain id 31337 is already used at chain_id"),
        "{msg}"
    );
}

#[test]
fn refuses_chain_id_collision_between_services() {
    let mut g = Genesis::devnet(4, 2);
    g.services[1].chain_id = g.services[0].chain_id;
    let (path, kind, _) = only_error(&g);
    assert_eq!(path, "services[1].chain_id");
    assert!(
        matches!(kind, GenesisErrorKind::ChainIdCollision { ref first, .. } if first == "services[0].chain_id")
    );
}

#[test]
fn refuses_duplicate_service_id() {
    let mut g = Genesis::devnet(4, 2);
    g.services[1].id = g.services[0].id;
    let (path, kind, _) = only_error(&g);
    assert_eq!(path, "services[1].id");
    assert!(matches!(kind, GenesisErrorKind::DuplicateServiceId { .. }));
}

#[test]
fn refuses_genesis_time_too_far_in_the_future() {
    let mut g = Genesis::devnet(1, 0);
    g.genesis_time = Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
    let (path, kind, msg) = only_error(&g);
    assert_eq!(path, "genesis_time");
    assert!(matches!(kind, GenesisErrorKind::GenesisTimeInFuture { .. }));
    assert!(msg.contains("is more than 7 days after now"), "{msg}");
    // A few days ahead is a network being prepared, and fine.
    g.genesis_time = Timestamp::parse_rfc3339("2026-11-27T00:00:00Z").unwrap();
    g.validate(now()).unwrap();
}

#[test]
fn refuses_out_of_range_parameters() {
    let mut g = Genesis::devnet(1, 1);
    g.services[0].params.timeouts.prevote_ms = 0;
    let (path, kind, _) = only_error(&g);
    assert_eq!(path, "services[0].params.timeouts.prevote_ms");
    assert_eq!(kind, GenesisErrorKind::InvalidParameter("must be positive"));

    let mut g = Genesis::devnet(1, 1);
    g.consensus.staking.double_sign_slash_bps = 10_001;
    let (path, _, msg) = only_error(&g);
    assert_eq!(path, "consensus.staking.double_sign_slash_bps");
    assert!(msg.contains("at most 10000"), "{msg}");
    let mut g = Genesis::devnet(1, 1);
    g.services[0].params.staking.jail_blocks = 0;
    let (path, kind, _) = only_error(&g);
    assert_eq!(path, "services[0].params.staking.jail_blocks");
    assert_eq!(kind, GenesisErrorKind::InvalidParameter("must be positive"));

    let mut g = Genesis::devnet(1, 1);
    g.consensus.staking.downtime_slash_bps = 10_001;
    let (path, _, _) = only_error(&g);
    assert_eq!(path, "consensus.staking.downtime_slash_bps");
    for window in [0, 100_001] {
        let mut g = Genesis::devnet(1, 1);
        g.consensus.staking.signed_blocks_window = window;
        let (path, _, msg) = only_error(&g);
        assert_eq!(path, "consensus.staking.signed_blocks_window");
        assert!(msg.contains("between 1 and 100000"), "{msg}");
    }
    let mut g = Genesis::devnet(1, 1);
    g.services[0].params.staking.min_signed_bps = 10_001;
    let (path, _, _) = only_error(&g);
    assert_eq!(path, "services[0].params.staking.min_signed_bps");
}

#[test]
fn refuses_timeouts_and_block_times_beyond_an_hour() {
    // Malachite adds rounds of these to the clock: a huge one would
    // overflow its timers instead of being refused here.
    for field in ["propose_ms", "prevote_ms", "precommit_ms"] {
        let mut g = Genesis::devnet(1, 1);
        let t = &mut g.consensus.timeouts;
        *match field {
            "propose_ms" => &mut t.propose_ms,
            "prevote_ms" => &mut t.prevote_ms,
            _ => &mut t.precommit_ms,
        } = u64::MAX;
        let (path, _, msg) = only_error(&g);
        assert_eq!(path, format!("consensus.timeouts.{field}"));
        assert!(msg.contains("at most 3600000"), "{msg}");
    }
    let mut g = Genesis::devnet(1, 1);
    g.services[0].params.target_block_time_ms = 3_600_001;
    let (path, _, _) = only_error(&g);
    assert_eq!(path, "services[0].params.target_block_time_ms");
    let mut g = Genesis::devnet(1, 1);
    g.consensus.timeouts.propose_ms = 3_600_000;
    assert!(g.validate(now()).is_ok());
}

#[test]
fn reports_every_mistake_at_once() {
    let mut g = Genesis::devnet(3, 1);
    g.validators[1].stake = Stake(0);
    g.services[0].chain_id = g.chain_id;
    let errors = g.validate(now()).unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["validators[1].stake", "services[0].chain_id"]);
    assert!(
        errors
            .to_string()
            .starts_with("invalid genesis (2 mistakes):")
    );
}

fn devnet_json_with(path: &[&str], value: serde_json::Value) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&Genesis::devnet(2, 1).to_json()).unwrap();
    let mut at = &mut doc;
    for p in path {
        at = match p.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*p],
        };
    }
    *at = value;
    doc.to_string()
}

#[test]
fn refuses_malformed_hex_naming_the_path() {
    let json = devnet_json_with(&["validators", "1", "operator"], "0xnothex".into());
    let (path, msg) = json_error(&json);
    assert_eq!(path, "validators[1].operator");
    assert!(msg.starts_with("validators[1].operator: "), "{msg}");

    let json = devnet_json_with(
        &["services", "0", "participants", "0", "consensus_key"],
        ("0x".to_owned() + &"zz".repeat(32)).into(),
    );
    let (path, msg) = json_error(&json);
    assert_eq!(path, "services[0].participants[0].consensus_key");
    assert!(msg.contains("invalid hex digit"), "{msg}");
}

#[test]
fn refuses_wrong_key_length_naming_the_path() {
    let json = devnet_json_with(&["validators", "0", "consensus_key"], "0xabcd".into());
    let (path, msg) = json_error(&json);
    assert_eq!(path, "validators[0].consensus_key");
    assert!(
        msg.contains("expected 32 bytes (64 hex digits), found 4 hex digits"),
        "{msg}"
    );
}

#[test]
fn refuses_a_key_that_is_not_an_ed25519_point() {
    let json = devnet_json_with(
        &["validators", "0", "consensus_key"],
        format!("0x02{}", "00".repeat(31)).into(),
    );
    let (path, msg) = json_error(&json);
    assert_eq!(path, "validators[0].consensus_key");
    assert!(msg.contains("not a valid ed25519 public key"), "{msg}");
}

#[test]
fn refuses_unknown_fields_and_bad_json_without_panicking() {
    let json = devnet_json_with(&["consensus", "epoch_lenght"], 5.into());
    let (path, msg) = json_error(&json);
    assert_eq!(path, "consensus.epoch_lenght");
    assert!(msg.contains("unknown field `epoch_lenght`"), "{msg}");
    for garbage in ["", "{", "[]", "null", "{\"chain_id\": -1}", "\u{0}"] {
        assert!(Genesis::from_json(garbage).is_err(), "{garbage:?}");
    }
    let stake = devnet_json_with(&["validators", "0", "stake"], "1e18".into());
    let (path, _) = json_error(&stake);
    assert_eq!(path, "validators[0].stake");
}

#[test]
fn validator_sets_come_from_stake() {
    let g = Genesis::devnet(4, 1);
    let set = g.validator_set().unwrap();
    assert_eq!(set.total_power().0, 400);
    let service_set = g.services[0].validator_set().unwrap();
    assert_eq!(service_set.total_power().0, 30);
    assert!(
        set.get_by_key(&ConsensusKey::of(&devnet_validator_key(
            DevnetChain::Space,
            3
        )))
        .is_some()
    );
}

#[test]
fn devnet_relayer_accounts_are_funded_on_the_space_only_and_match_their_keys() {
    use gont_core::genesis::{DEVNET_RELAYER_BALANCE, devnet_relayer_address, devnet_relayer_key};
    let g = Genesis::devnet(4, 1);
    for i in 0..4 {
        let address = devnet_relayer_address(i);
        assert_ne!(address, gont_core::Address::ZERO);
        // The address is the key's, derived independently with k256.
        let key = k256::ecdsa::SigningKey::from_slice(devnet_relayer_key(i).as_slice()).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let hash = alloy_primitives::keccak256(&point.as_bytes()[1..]);
        assert_eq!(address.as_slice(), &hash[12..]);
        assert!(
            g.accounts
                .iter()
                .any(|a| a.address == address && a.balance == DEVNET_RELAYER_BALANCE)
        );
        assert!(g.services[0].accounts.iter().all(|a| a.address != address));
    }
}

#[test]
fn a_genesis_without_the_punishment_parameters_takes_their_defaults() {
    let mut doc: serde_json::Value =
        serde_json::from_str(&Genesis::devnet(2, 0).to_json()).unwrap();
    let staking = doc["consensus"]["staking"].as_object_mut().unwrap();
    staking.remove("double_sign_slash_bps").unwrap();
    staking.remove("jail_blocks").unwrap();
    staking.remove("downtime_slash_bps").unwrap();
    staking.remove("signed_blocks_window").unwrap();
    staking.remove("min_signed_bps").unwrap();
    let g = Genesis::from_json(&doc.to_string()).unwrap();
    assert_eq!(g.consensus.staking.double_sign_slash_bps, 500);
    assert_eq!(g.consensus.staking.jail_blocks, 600);
    assert_eq!(g.consensus.staking.downtime_slash_bps, 100);
    assert_eq!(g.consensus.staking.signed_blocks_window, 100);
    assert_eq!(g.consensus.staking.min_signed_bps, 5_000);
}
