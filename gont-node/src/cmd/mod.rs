//! The commands of the `gont` binary that run, watch or check nodes, and
//! manage accounts.

#[cfg(feature = "masternode")]
pub(crate) mod devnet;
#[cfg(feature = "masternode")]
pub(crate) mod home;
pub(crate) mod keys;
#[cfg(feature = "masternode")]
pub(crate) mod start;
pub(crate) mod status;
pub(crate) mod verify;
#[cfg(feature = "abi")]
pub(crate) mod vm;

/// How `gont start` writes its logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people (colours on a terminal).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`,
    /// `message` and the event's fields), for log collectors.
    Json,
}
