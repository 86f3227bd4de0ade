//! `gont keys account`: Ethereum accounts in a keystore directory, in
//! geth's layout (one Web3 Secret Storage v3 file per account, named
//! `UTC--<time>--<address>`), which geth and MetaMask import.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gont_node::config::files;
use gont_node::keystore::account::{self, AccountKey, DEFAULT_DERIVATION_PATH, Entry};
use zeroize::Zeroizing;

use crate::Passphrase;

#[derive(clap::Subcommand)]
pub(crate) enum AccountCommand {
    /// Create an account with a random key, encrypted with a passphrase;
    /// prints its address and file.
    New {
        #[command(flatten)]
        dir: KeystoreDir,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    /// Import an account from a private key or a BIP-39 mnemonic, read from
    /// a file or stdin (never from the command line); refused if the
    /// directory already holds the account.
    Import {
        #[command(flatten)]
        dir: KeystoreDir,
        #[command(flatten)]
        source: ImportSource,
        /// The BIP-32 path to derive from the mnemonic [default:
        /// m/44'/60'/0'/0/0, MetaMask's first account; m/44'/60'/0'/0/i is
        /// account i].
        #[arg(long, conflicts_with = "private_key_file")]
        derivation_path: Option<String>,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    /// The accounts of a keystore directory, one per line: address and file.
    /// Needs no passphrase.
    List {
        #[command(flatten)]
        dir: KeystoreDir,
    },
    /// The (checksummed) address of an account keystore, read without
    /// decrypting it.
    ExportAddress {
        /// The keystore file.
        file: PathBuf,
    },
}

/// Where the account keystores are: a directory, or a node home's
/// `keystore/` (beside its validator keys, which the account commands
/// leave alone).
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct KeystoreDir {
    /// The keystore directory (created, owner-only, if missing).
    #[arg(long)]
    keystore_dir: Option<PathBuf>,
    /// A node home: its `keystore/` directory.
    #[arg(long)]
    home: Option<PathBuf>,
}

impl KeystoreDir {
    fn path(&self) -> PathBuf {
        match (&self.keystore_dir, &self.home) {
            (Some(dir), _) => dir.clone(),
            (None, Some(home)) => home.join(files::KEYSTORE),
            // clap's group requires one of the two.
            (None, None) => PathBuf::from(files::KEYSTORE),
        }
    }
}

/// The secret an account is imported from: exactly one file (`-` is
/// stdin).
#[derive(clap::Args)]
#[group(required = true, multiple = false, id = "secret")]
pub(crate) struct ImportSource {
    /// A file holding the private key: 64 hex digits, `0x` optional.
    #[arg(long)]
    private_key_file: Option<PathBuf>,
    /// A file holding a BIP-39 mnemonic (English words, 12 to 24).
    #[arg(long)]
    mnemonic_file: Option<PathBuf>,
}

pub(crate) fn run(command: AccountCommand) -> Result<()> {
    match command {
        AccountCommand::New { dir, passphrase } => {
            let key = AccountKey::generate()?;
            write(&dir.path(), &key, &passphrase)
        }
        AccountCommand::Import {
            dir,
            source,
            derivation_path,
            passphrase,
        } => {
            let key = match (&source.private_key_file, &source.mnemonic_file) {
                (Some(file), _) => AccountKey::from_hex(&read_secret(file)?)
                    .with_context(|| file.display().to_string())?,
                (None, Some(file)) => AccountKey::from_mnemonic(
                    &read_secret(file)?,
                    derivation_path
                        .as_deref()
                        .unwrap_or(DEFAULT_DERIVATION_PATH),
                )
                .with_context(|| file.display().to_string())?,
                (None, None) => anyhow::bail!("give --private-key-file or --mnemonic-file"),
            };
            write(&dir.path(), &key, &passphrase)
        }
        AccountCommand::List { dir } => {
            let dir = dir.path();
            let mut accounts = 0;
            for entry in account::scan(&dir)? {
                match entry {
                    Entry::Account { path, address } => {
                        accounts += 1;
                        println!("{address}  {}", path.display());
                    }
                    Entry::Other { .. } => {}
                    Entry::Unreadable { error, .. } => eprintln!("skipped {error}"),
                }
            }
            if accounts == 0 {
                eprintln!("no account keystores in {}", dir.display());
            }
            Ok(())
        }
        AccountCommand::ExportAddress { file } => {
            println!("{}", account::address_of(&file)?);
            Ok(())
        }
    }
}

fn write(dir: &Path, key: &AccountKey, passphrase: &Passphrase) -> Result<()> {
    let passphrase = Zeroizing::new(passphrase.read()?);
    let path = account::write(dir, key, &passphrase, gont_node::wall_clock())?;
    println!("created {}\n  address {}", path.display(), key.address());
    Ok(())
}

/// The contents of a file holding a secret, or of stdin for `-`, in a buffer
/// zeroized when dropped.
fn read_secret(file: &Path) -> Result<Zeroizing<String>> {
    // Reserved up front so that reading a key or a mnemonic never
    // reallocates, which would leave a copy behind in freed memory.
    let mut text = Zeroizing::new(String::with_capacity(4096));
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
    } else {
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(text)
}
