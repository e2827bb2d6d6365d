//! Fatal errors: the command itself cannot go on (as opposed to [`crate::diag::Diagnostic`]s,
//! which are facts about the vault and never stop the pipeline).

use std::path::PathBuf;

/// Why a command failed outright. Every I/O variant names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The vault folder does not exist or is not a folder.
    #[error("vault not found: {path} is not a readable folder")]
    VaultNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The output folder is the vault or contains it; writing there could destroy notes.
    #[error("refusing to write the site to {output}: it is or contains the vault {vault}")]
    OutputContainsVault {
        /// Output folder.
        output: PathBuf,
        /// Vault folder.
        vault: PathBuf,
    },
    /// The output folder exists, is not empty and was not written by vaultc.
    #[error("refusing to replace {path}: it is not empty and was not written by vaultc (no {marker} file)")]
    OutputNotASite {
        /// Output folder.
        path: PathBuf,
        /// The marker file vaultc writes into every site it builds.
        marker: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {cause}")]
    Io {
        /// What was being done ("reading", "writing", ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error. It is part of the message, so it is not also exposed as
        /// `source()`: an error chain printed with `{:#}` would say it twice.
        cause: std::io::Error,
    },
    /// `vaultc.toml` or a command-line lint option is invalid.
    #[error("{path}: {message}")]
    Config {
        /// The configuration file (or `command line`).
        path: PathBuf,
        /// What is wrong and what is valid.
        message: String,
    },
    /// The theme folder given (`--theme`, or `theme` in `vaultc.toml`) is not a folder.
    #[error("theme not found: {path} is not a folder")]
    ThemeNotFound {
        /// The folder given.
        path: PathBuf,
    },
    /// A theme template failed to load or render.
    #[error("template {name}: {message}")]
    Template {
        /// Template name.
        name: String,
        /// The template engine's explanation.
        message: String,
    },
    /// `serve` could not listen on its address.
    #[error("cannot serve on {addr}: {message}")]
    Serve {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why (address in use, permission denied, ...).
        message: String,
    },
    /// `lsp` could not talk with the editor (a message that is not the protocol's, a closed
    /// connection during the handshake).
    #[error("language server: {0}")]
    Lsp(String),
    /// `serve` could not watch a folder for changes.
    #[error("cannot watch {path} for changes: {message}")]
    Watch {
        /// The folder.
        path: PathBuf,
        /// Why (too many watches, the folder vanished, ...).
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with the action and path it concerns.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            cause: source,
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
