//! The node key: the ed25519 key that names a node on the network.
//!
//! It is not a validator key. A validator signs votes with its consensus
//! key; the node key only authenticates connections (Noise) and gossip, so
//! that losing it costs a peer id and never a stake. It lives in the data
//! directory as [`NODE_KEY_FILE`], in libp2p's protobuf key encoding, which
//! other libp2p tools read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

use crate::types::NodeId;

/// The node key's file name inside the data directory.
pub const NODE_KEY_FILE: &str = "node_key";

/// Why the node key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading, writing or creating the file failed.
    #[error("node key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file exists but does not hold an ed25519 node key. It is left
    /// untouched: replacing it silently would change the node's identity.
    #[error("node key file {path} is corrupt ({reason}); move it away to create a new key")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// A node's network key (ed25519).
#[derive(Clone)]
pub struct NodeKey(Keypair);

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.id())
    }
}

impl NodeKey {
    /// A fresh random key, kept only in memory (tests, throwaway nodes).
    pub fn generate() -> Self {
        Self(Keypair::generate_ed25519())
    }

    /// A key derived from 32 secret bytes, for reproducible test nodes.
    pub fn from_secret(mut secret: [u8; 32]) -> Self {
        // `ed25519_from_bytes` only fails on a slice that is not 32 bytes.
        match Keypair::ed25519_from_bytes(&mut secret) {
            Ok(k) => Self(k),
            Err(_) => Self::generate(),
        }
    }

    /// Loads the key from `<data_dir>/node_key`, or creates and stores a new
    /// one if there is no such file. A file that exists but does not decode
    /// is an error, never replaced.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, IdentityError> {
        let path = data_dir.join(NODE_KEY_FILE);
        match fs::read(&path) {
            Ok(bytes) => Self::decode(&bytes).map_err(|reason| IdentityError::Corrupt {
                path: path.clone(),
                reason,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                key.store(data_dir, &path)?;
                Ok(key)
            }
            Err(source) => Err(IdentityError::Io { path, source }),
        }
    }

    /// Writes this key to `data_dir`'s node key file (for a node whose key
    /// is chosen elsewhere, e.g. a devnet's deterministic keys); refuses to
    /// replace an existing file.
    pub fn save(&self, data_dir: &Path) -> Result<(), IdentityError> {
        let path = data_dir.join(NODE_KEY_FILE);
        if path.exists() {
            return Err(IdentityError::Io {
                path,
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        self.store(data_dir, &path)
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let key = Keypair::from_protobuf_encoding(bytes).map_err(|e| e.to_string())?;
        if key.clone().try_into_ed25519().is_err() {
            return Err(format!("key type {:?} is not ed25519", key.key_type()));
        }
        Ok(Self(key))
    }

    /// Writes the key next to its final place and renames it there, so that
    /// a crash never leaves half a key behind.
    fn store(&self, data_dir: &Path, path: &Path) -> Result<(), IdentityError> {
        let io = |source| IdentityError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = self
            .0
            .to_protobuf_encoding()
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        fs::create_dir_all(data_dir).map_err(io)?;
        let tmp = path.with_extension("tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    }

    /// 32 secret bytes derived from this key for `context` (blake3's key
    /// derivation over the ed25519 secret): the seed of another identity
    /// of this node, e.g. its per-chain consensus-network key, that is
    /// this node's alone. `None` only for a key that is not ed25519 (never
    /// loaded or made by this type).
    pub fn derive_secret(&self, context: &str) -> Option<[u8; 32]> {
        let ed = self.0.clone().try_into_ed25519().ok()?;
        Some(blake3::derive_key(context, ed.secret().as_ref()))
    }

    /// The node id this key gives.
    pub fn id(&self) -> NodeId {
        NodeId(self.0.public().to_peer_id())
    }

    /// The libp2p keypair, for a component that must run under the same
    /// network identity.
    pub fn keypair(&self) -> &Keypair {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap, index or panic is the test failing, with its message.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn load_or_create_persists_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = NodeKey::load_or_create(dir.path()).unwrap();
        let again = NodeKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(NODE_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(first.id(), NodeKey::generate().id());
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_and_is_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NODE_KEY_FILE);
        fs::write(&path, b"not a key").unwrap();
        let err = NodeKey::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("corrupt"));
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }

    #[test]
    fn secret_bytes_give_a_stable_id() {
        assert_eq!(
            NodeKey::from_secret([7; 32]).id(),
            NodeKey::from_secret([7; 32]).id()
        );
    }

    #[test]
    fn derived_secrets_are_the_keys_own_per_context_and_not_its_public_id() {
        let a = NodeKey::from_secret([7; 32]);
        let b = NodeKey::from_secret([8; 32]);
        let derive = |k: &NodeKey, c| k.derive_secret(c).expect("an ed25519 key");
        assert_eq!(derive(&a, "x"), derive(&NodeKey::from_secret([7; 32]), "x"));
        assert_ne!(derive(&a, "x"), derive(&b, "x"));
        assert_ne!(derive(&a, "x"), derive(&a, "y"));
        assert_ne!(
            derive(&a, "x"),
            blake3::derive_key("x", &a.id().0.to_bytes())
        );
    }
}
