//! `runner` releases Java services that ship as jar files onto plain Linux hosts.
//!
//! # Layout
//! In the order data flows:
//! - [`cli`]: the command line (clap) → [`cmd`]: one file per command under `cmd/`, each a
//!   `run(globals, args) -> Result<ExitCode>`; [`config`]: `runner.toml` → a validated
//!   [`config::Config`], parsed once.
//! - [`watch`] → [`sync`] → [`agent`]: settled staging files pushed to targets; the agent is
//!   the far end (`agent/protocol.rs`: bounded, versioned frames; `agent/mux.rs`: the rows to
//!   one host as channels of one ssh session and one agent, `sync/mux.rs` their client side).
//! - [`inventory`]: walking trees and hashing files with a persistent cache; [`jar`]: zip checks
//!   and entry diffs.
//! - [`plan`]: staged vs deployed → added / modified / removed / unchanged.
//! - [`release`]: the release top to bottom with its hook points, and rollback beside it; it
//!   sequences the step modules, one step each: [`lock`] → [`journal`] → [`backup`] →
//!   [`install`] → [`restart`] → [`verify`].
//! - [`fleet`]: on the central box, a release rolled over an app's hosts, each through an
//!   [`agent`] session (sync, then the host's own [`release`]) in batches.
//! - [`plugin`] beside it all: the WASM plugin host the [`hook`] points call.
//! - [`outcome`]: how a release, a host and a fleet roll ended; [`history`]: release records;
//!   [`report`]: tables, summaries, `--events` and `--json`, errors; [`progress`]: progress
//!   bars; [`error`]: errors, their help text and exit codes; [`host`]: this machine and user;
//!   [`fsutil`]: durable writes; [`address`]: host addresses and target URLs, parsed once.
//! - [`fault`]: crash injection for tests.
//!
//! # Following a release
//! `main.rs` → [`cmd::run`] → `cmd/release.rs` → [`release::release`], whose `execute` lists
//! the steps: backup, install, then `restart_and_verify` calling [`restart::run`] and
//! [`verify::run`]. Each step is wrapped by `Run::around`: before-hook, step, after-hook told
//! the step's error. A fleet app goes `cmd/release.rs` → [`fleet::release`] → per host an
//! agent session that runs `runner release <app> --local --events` there.
//!
//! # Where each hook is called
//! | hooks | called from |
//! | --- | --- |
//! | `before-plan`, `after-plan` | [`release::release`], around planning |
//! | `release-start`, `release-end` | `release::execute` and `Run::finish` |
//! | `before-`/`after-` `backup`, `install`, `restart`, `verify` | `Run::around` in `release.rs` |
//! | `before-rollback`, `after-rollback` | `Run::roll_back` in `release.rs` |
//! | `before-sync`, `after-sync` | `sync::Session::reconcile` and `sync::run`, per batch |
//! | `before-host`, `after-host` | `fleet.rs`, around each host, on the central box |
//!
//! Exit codes: 0 done, 1 a release or sync failed (rolled back where it could be), 2 bad usage
//! or config, 3 locked, 4 runner could not start one of its own parts.

pub mod address;
pub mod agent;
pub mod backup;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod fault;
pub mod fleet;
pub mod fsutil;
pub mod history;
pub mod hook;
pub mod host;
pub mod i18n;
pub mod init;
pub mod install;
pub mod interrupt;
pub mod inventory;
pub mod jar;
pub mod journal;
pub mod lock;
pub mod manifest;
pub mod outcome;
pub mod plan;
pub mod plugin;
pub mod preflight;
pub mod progress;
pub mod release;
pub mod report;
pub mod restart;
pub mod sync;
pub mod threads;
pub mod verify;
pub mod watch;

pub use cmd::run;
