//! Command-line arguments (clap). Nothing else: `lib.rs` turns these into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version,
    about = "Release Java services onto plain Linux hosts: plan, back up, install, restart, verify, roll back"
)]
pub struct Cli {
    /// Config file (else $RUNNER_CONFIG, ./runner.toml, /etc/runner/runner.toml)
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More output (-v: list unchanged files, name drifted files, debug logs; -vv: trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors and warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print reports as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,

    /// Colour output
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a release would change: files added / modified / removed / unchanged. Changes nothing.
    Plan {
        /// Apps to plan (default: all configured apps)
        apps: Vec<String>,
        /// Per modified jar, list the entries (classes, resources) added, removed or changed
        #[arg(long)]
        entries: bool,
    },
    /// Release apps: lock, plan, back up, install, restart, verify (roll back on failure)
    Release {
        /// Apps to release (in a terminal, none offers a pick list)
        apps: Vec<String>,
        /// Release every configured app that has pending changes
        #[arg(long, conflicts_with = "apps")]
        all: bool,
        #[command(flatten)]
        flags: ReleaseFlags,
        /// Per modified jar, list the entries that changed
        #[arg(long)]
        entries: bool,
        #[command(flatten)]
        fleet: FleetFlags,
    },
    /// Install staged common libs into every app that already has a jar of that name
    Common {
        /// Apps to update (default: every app containing one of the libs)
        apps: Vec<String>,
        #[command(flatten)]
        flags: ReleaseFlags,
    },
    /// Put back the files of the last (or named) release from its backup, restart, verify
    Rollback {
        app: String,
        /// The release to undo (default: the last successful one not yet rolled back)
        #[arg(long, value_name = "RELEASE_ID")]
        to: Option<String>,
        #[command(flatten)]
        flags: ReleaseFlags,
    },
    /// Restart apps and verify them, with the hooks of a release's restart and verify (a drain
    /// plugin drains them); recorded in the history. For an app with `hosts`: a rolling restart
    Restart {
        /// Apps to restart (in a terminal, none offers a pick list)
        apps: Vec<String>,
        #[command(flatten)]
        flags: ReleaseFlags,
        #[command(flatten)]
        fleet: FleetFlags,
    },
    /// Past releases: id, time, user, files, outcome, duration
    History {
        app: Option<String>,
        /// Show at most this many (newest)
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// What is deployed where, drift since (files changed by hand; -v names them), staged
    /// changes waiting, a release running or interrupted, and health. Exit 1 when an app needs
    /// a look.
    Status {
        /// Apps to show (default: all configured apps)
        apps: Vec<String>,
    },
    /// Push staging dirs to their [[sync]] targets once
    Sync {
        /// Targets (as written in the config) or source dirs to sync (default: all)
        targets: Vec<String>,
        /// Targets synced at once (each its own agent session)
        #[arg(long, short = 'j', default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
        /// Let a sync empty a target whose source is missing or empty (refused otherwise: an
        /// unmounted share looks just like that)
        #[arg(long)]
        allow_delete_all: bool,
    },
    /// The service: watch staging dirs and keep every [[sync]] target in sync as files settle
    Watch {
        /// A written file with no close seen is pushed after this long without writes
        #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
        settle: std::time::Duration,
        /// Full reconcile period (drift repair)
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
        reconcile_every: std::time::Duration,
        /// Log lines as text or JSON (one object per line, for journald/log shippers)
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Let a sync empty a target whose source is missing or empty
        #[arg(long)]
        allow_delete_all: bool,
    },
    /// The far end of a sync target: speak the sync protocol on stdin/stdout
    Agent {
        /// Use stdin/stdout (the only transport)
        #[arg(long, required = true)]
        stdio: bool,
        /// The directory it may write in; nothing outside it is touched
        #[arg(
            long,
            value_name = "DIR",
            required_unless_present = "app",
            conflicts_with = "app"
        )]
        root: Option<PathBuf>,
        /// Serve this app's staging dir (from this host's config) and run its releases for a
        /// fleet release on the central box
        #[arg(long, value_name = "APP")]
        app: Option<String>,
    },
    /// Plugin commands
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Print a shell completion script: `runner completions bash > /etc/bash_completion.d/runner`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Fleet commands (on the central box)
    Fleet {
        #[command(subcommand)]
        command: FleetCommand,
    },
    /// Config commands
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show configured plugins, their hooks and grants, and capabilities they need but lack
    List,
    /// Load a component, check it against the WIT world, show what it declares
    Check {
        /// The .wasm component
        wasm: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Put a host a roll left out of rotation back: run the after-host hooks of the app's last
    /// fleet roll for it (nginx-drain restores its server)
    Restore {
        app: String,
        /// The host as the app's `hosts` lists it
        host: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse and validate the config; print the resolved view
    Check,
}

/// How a fleet release (an app with `hosts`, from the central box) rolls over the hosts.
#[derive(Debug, Clone, Args)]
pub struct FleetFlags {
    /// Hosts per batch: a count, a percentage, or a ramp like `1,25%,100%` (the last step
    /// repeats); a batch starts only when every host of the one before has verified
    /// [default: 1]
    #[arg(long, value_name = "N|N%|RAMP")]
    pub batch: Option<String>,
    /// Failed hosts tolerated before no new host is started [default: 0]
    #[arg(long, value_name = "N")]
    pub max_fail: Option<usize>,
    /// Wait this long between batches [default: 0s]
    #[arg(long, value_parser = humantime::parse_duration)]
    pub pause: Option<std::time::Duration>,
    /// When the roll stops on a failure, roll back the hosts already released
    #[arg(long)]
    pub rollback_on_failure: bool,
    /// Copy this runner to a host that lacks it (or has another version), over ssh, to
    /// ~/.runner/bin/runner-<version> (sha256 checked)
    #[arg(long)]
    pub install_agent: bool,
}

impl FleetFlags {
    /// The flags given, by name (they apply only to a fleet release).
    pub fn given(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (set, name) in [
            (self.batch.is_some(), "--batch"),
            (self.max_fail.is_some(), "--max-fail"),
            (self.pause.is_some(), "--pause"),
            (self.rollback_on_failure, "--rollback-on-failure"),
            (self.install_agent, "--install-agent"),
        ] {
            if set {
                out.push(name);
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, Args)]
pub struct ReleaseFlags {
    /// Print the plan and stop
    #[arg(long)]
    pub dry_run: bool,
    /// Install but do not restart (or verify)
    #[arg(long)]
    pub no_restart: bool,
    /// On a failed verify, leave the new files in place instead of rolling back
    #[arg(long)]
    pub no_rollback: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Release on this host even if the app lists `hosts` (what a fleet release runs on each host)
    #[arg(long)]
    pub local: bool,
    /// Print progress as JSON lines on stdout (steps, start-up log, outcome): what a fleet
    /// release reads from each host
    #[arg(long)]
    pub events: bool,
}
