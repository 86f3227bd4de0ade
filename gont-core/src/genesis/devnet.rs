//! The development network: well-known funded accounts and deterministic
//! validator keys, so that a devnet and every tool pointed at it agree.

use super::{ConsensusParams, Genesis, GenesisAccount, GenesisValidator};
use crate::primitives::{Address, B256, ChainId, ServiceId, Stake, Timestamp, U256};
use crate::service::ServiceManifest;
use crate::validator_set::ConsensusKey;

/// The mnemonic of the development accounts, as anvil and Hardhat use it.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The private keys of the first ten accounts of [`DEV_MNEMONIC`] on the path
/// `m/44'/60'/0'/0/i`. They are public knowledge: never fund them on a real
/// network.
pub const DEV_PRIVATE_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The addresses of [`DEV_PRIVATE_KEYS`], in the same order.
pub const DEV_ADDRESSES: [Address; 10] = [
    alloy_primitives::address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
    alloy_primitives::address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    alloy_primitives::address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
    alloy_primitives::address!("90F79bf6EB2c4f870365E785982E1f101E93b906"),
    alloy_primitives::address!("15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
    alloy_primitives::address!("9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),
    alloy_primitives::address!("976EA74026E726554dB657fA54763abd0C3a0aa9"),
    alloy_primitives::address!("14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
    alloy_primitives::address!("23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"),
    alloy_primitives::address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720"),
];

/// The private keys of accounts 10 to 19 of [`DEV_MNEMONIC`]: devnet
/// validator `i` is operated by account `10 + i` (its fees, its stake).
/// Public knowledge, like [`DEV_PRIVATE_KEYS`].
pub const DEV_OPERATOR_KEYS: [&str; 10] = [
    "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
    "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82",
    "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1",
    "0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd",
    "0xc526ee95bf44d8fc405a158bb884d9d1238d99f0612e9f33d006bb0789009aaa",
    "0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61",
    "0xea6c44ac03bff858b476bba40716402b03e41b8e97e276d1baec7c37d42484a0",
    "0x689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
    "0xde9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
    "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
];

/// The addresses of [`DEV_OPERATOR_KEYS`], in the same order.
pub const DEV_OPERATOR_ADDRESSES: [Address; 10] = [
    alloy_primitives::address!("Bcd4042DE499D14e55001CcbB24a551F3b954096"),
    alloy_primitives::address!("71bE63f3384f5fb98995898A86B02Fb2426c5788"),
    alloy_primitives::address!("FABB0ac9d68B0B445fB7357272Ff202C5651694a"),
    alloy_primitives::address!("1CBd3b2770909D4e10f157cABC84C7264073C9Ec"),
    alloy_primitives::address!("dF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"),
    alloy_primitives::address!("cd3B766CCDd6AE721141F452C550Ca635964ce71"),
    alloy_primitives::address!("2546BcD3c84621e976D8185a91A922aE77ECEc30"),
    alloy_primitives::address!("bDA5747bFD65F08deb54cb465eB87D40e51B197E"),
    alloy_primitives::address!("dD2FD4581271e230360230F9337D5c0430Bf44C0"),
    alloy_primitives::address!("8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199"),
];

/// Each development account's balance on every devnet chain: 10 000 ether,
/// as anvil funds them.
pub const DEV_ACCOUNT_BALANCE: U256 = U256::from_limbs([0x19e0_c9ba_b240_0000, 0x21e, 0, 0]);

/// The devnet's fixed genesis time, so that its genesis hash is stable.
pub const DEVNET_GENESIS_TIME: Timestamp = Timestamp::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z

/// GONT Space's chain id on a devnet (anvil's); service `i` (from 1) takes
/// `DEVNET_SPACE_CHAIN_ID + i`.
pub const DEVNET_SPACE_CHAIN_ID: ChainId = ChainId(31337);

/// Which devnet chain a validator key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevnetChain {
    /// GONT Space.
    Space,
    /// A service.
    Service(ServiceId),
}

/// The deterministic ed25519 signing key of devnet node `index` on `chain`:
/// `blake3::derive_key("gont devnet validator key v1", "<chain>/<index>")`.
/// Public by construction, like [`DEV_PRIVATE_KEYS`]: for devnets only.
pub fn devnet_validator_key(chain: DevnetChain, index: usize) -> ed25519_consensus::SigningKey {
    let material = match chain {
        DevnetChain::Space => format!("space/{index}"),
        DevnetChain::Service(id) => format!("service-{id}/{index}"),
    };
    ed25519_consensus::SigningKey::from(blake3::derive_key(
        "gont devnet validator key v1",
        material.as_bytes(),
    ))
}

/// The twenty development accounts (0 to 9, and the operators 10 to 19),
/// each with [`DEV_ACCOUNT_BALANCE`].
fn dev_accounts() -> Vec<GenesisAccount> {
    DEV_ADDRESSES
        .iter()
        .chain(&DEV_OPERATOR_ADDRESSES)
        .map(|&address| GenesisAccount {
            address,
            balance: DEV_ACCOUNT_BALANCE,
        })
        .collect()
}

fn dev_validator(chain: DevnetChain, node: usize, tokens: u64) -> GenesisValidator {
    let label = match chain {
        DevnetChain::Space => format!("node{node}"),
        DevnetChain::Service(id) => format!("node{node}@service-{id}"),
    };
    GenesisValidator {
        name: label,
        consensus_key: ConsensusKey::of(&devnet_validator_key(chain, node)),
        // Node i is operated by development account 10 + i.
        operator: dev_operator(node),
        stake: Stake::tokens(tokens),
    }
}

/// The operator account of devnet node `node`: development account
/// `10 + node` ([`DEV_OPERATOR_ADDRESSES`]); past ten nodes, an address
/// derived from the node's index, whose key nobody has.
pub fn dev_operator(node: usize) -> Address {
    match DEV_OPERATOR_ADDRESSES.get(node) {
        Some(a) => *a,
        // Past the ten well-known accounts, a derived one.
        None => {
            let digest = blake3::derive_key("gont devnet operator v1", node.to_string().as_bytes());
            Address::from_slice(digest.get(..20).unwrap_or(&[0; 20]))
        }
    }
}

/// The nodes whose participants validate service number `s` (from 0) on a
/// devnet of `n` nodes: `n - 1` consecutive nodes starting after node `s`,
/// wrapping, so a service is run by a strict subset of the nodes (all of
/// them when `n = 1`).
pub fn devnet_service_nodes(n: usize, s: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let count = if n == 1 { 1 } else { n - 1 };
    (0..count).map(|k| (s + 1 + k) % n).collect()
}

/// The secp256k1 secret of devnet node `index`'s relayer account, which
/// submits its services' checkpoints to the Space:
/// `blake3::derive_key("gont devnet relayer key v1", "node<index>")`.
/// Public by construction, like [`DEV_PRIVATE_KEYS`]: for devnets only.
pub fn devnet_relayer_key(index: usize) -> B256 {
    B256::from(blake3::derive_key(
        "gont devnet relayer key v1",
        format!("node{index}").as_bytes(),
    ))
}

/// The address of [`devnet_relayer_key`]`(index)`.
pub fn devnet_relayer_address(index: usize) -> Address {
    secret_address(devnet_relayer_key(index)).unwrap_or(Address::ZERO)
}

/// The Ethereum address of a secp256k1 secret: the last 20 bytes of the
/// keccak-256 hash of its public key; `None` for bytes that are no secret
/// (zero, or not below the curve order).
pub fn secret_address(secret: B256) -> Option<Address> {
    let secret = secp256k1::SecretKey::from_byte_array(secret.0).ok()?;
    let public = secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &secret);
    // The uncompressed key is 0x04 ‖ x ‖ y; the address hashes x ‖ y.
    let uncompressed = public.serialize_uncompressed();
    let (_, xy) = uncompressed.split_at(1);
    Some(Address::from_raw_public_key(xy))
}

/// A devnet chain's parameters: the defaults with epochs of 20 blocks, so
/// that staking takes effect within seconds.
fn devnet_params() -> ConsensusParams {
    ConsensusParams {
        epoch_length: 20,
        ..ConsensusParams::default()
    }
}

/// What each devnet relayer account holds on the Space: 1 000 ether.
pub const DEVNET_RELAYER_BALANCE: U256 = U256::from_limbs([0x35c9_adc5_dea0_0000, 0x36, 0, 0]);

impl Genesis {
    /// A development genesis: `validators` Space validators of 100 tokens
    /// each, and `services` example services whose participants are a strict
    /// subset of the nodes (10 tokens each), node `i` operated by
    /// development account `10 + i` ([`DEV_OPERATOR_ADDRESSES`]), epochs of
    /// 20 blocks, every chain funding the first twenty accounts of
    /// [`DEV_MNEMONIC`] with 10 000 ether, and the
    /// Space funding every node's relayer account
    /// ([`devnet_relayer_address`]) with 1 000 ether. Keys come from
    /// [`devnet_validator_key`]. The anchor registry's admin is development
    /// account 0. Zero validators gives a genesis that
    /// [`Genesis::validate`] refuses.
    pub fn devnet(validators: usize, services: usize) -> Self {
        let services = (0..services)
            .map(|s| {
                let id = ServiceId(u32::try_from(s + 1).unwrap_or(u32::MAX));
                ServiceManifest {
                    id,
                    name: format!("example-{}", id.0),
                    chain_id: ChainId(DEVNET_SPACE_CHAIN_ID.0.saturating_add(u64::from(id.0))),
                    contracts: Vec::new(),
                    participants: devnet_service_nodes(validators, s)
                        .into_iter()
                        .map(|node| dev_validator(DevnetChain::Service(id), node, 10))
                        .collect(),
                    accounts: dev_accounts(),
                    params: devnet_params(),
                }
            })
            .collect();
        Self {
            chain_id: DEVNET_SPACE_CHAIN_ID,
            genesis_time: DEVNET_GENESIS_TIME,
            consensus: devnet_params(),
            accounts: dev_accounts()
                .into_iter()
                .chain((0..validators).map(|i| GenesisAccount {
                    address: devnet_relayer_address(i),
                    balance: DEVNET_RELAYER_BALANCE,
                }))
                .collect(),
            validators: (0..validators)
                .map(|i| dev_validator(DevnetChain::Space, i, 100))
                .collect(),
            services,
            anchor_admin: Some(DEV_ADDRESSES[0]),
        }
    }
}
