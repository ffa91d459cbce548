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
    #[arg(
        short,
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,

    /// More output (-vv: trace)
    ///
    /// -v lists unchanged files in a plan, names drifted files in `status`, and logs at debug
    /// level; -vv at trace level.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,

    /// Only errors and warnings
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,

    /// Print reports as JSON on stdout ({"schema": 1, ...}; docs/json.md)
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// Colour output
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, help_heading = "Global options")]
    pub color: Color,

    /// Language of messages: zh-CN or en (default: from LC_ALL / LC_MESSAGES / LANG)
    #[arg(
        long,
        global = true,
        value_name = "LANG",
        help_heading = "Global options"
    )]
    pub lang: Option<String>,

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
    #[command(after_long_help = EX_PLAN)]
    Plan {
        /// Apps to plan (default: all configured apps)
        apps: Vec<String>,
        /// Per modified jar, list the entries (classes, resources) added, removed or changed
        #[arg(long)]
        entries: bool,
    },
    /// Release apps: lock, plan, back up, install, restart, verify (roll back on failure)
    #[command(after_long_help = EX_RELEASE)]
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
        /// Apps released at once, each in its own runner process (own lock, journal, record)
        #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
    },
    /// Install staged common libs into every app that already has a jar of that name
    #[command(after_long_help = EX_COMMON)]
    Common {
        /// Apps to update (default: every app containing one of the libs)
        apps: Vec<String>,
        #[command(flatten)]
        flags: ReleaseFlags,
    },
    /// Put back the files of the last (or named) release from its backup, restart, verify
    #[command(after_long_help = EX_ROLLBACK)]
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
    #[command(after_long_help = EX_RESTART)]
    Restart {
        /// Apps to restart (in a terminal, none offers a pick list)
        apps: Vec<String>,
        #[command(flatten)]
        flags: ReleaseFlags,
        #[command(flatten)]
        fleet: FleetFlags,
        /// Apps restarted at once, each in its own runner process
        #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
    },
    /// Past releases: id, time, user, files, outcome, duration
    #[command(after_long_help = EX_HISTORY)]
    History {
        app: Option<String>,
        /// Show at most this many (newest)
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
    },
    /// What is deployed where, drift since (files changed by hand; -v names them), staged
    /// changes waiting, a release running or interrupted, and health. Exit 1 when an app needs
    /// a look.
    #[command(after_long_help = EX_STATUS)]
    Status {
        /// Apps to show (default: all configured apps)
        apps: Vec<String>,
        /// Only the sync service: per target, last sync, pending, failing since, last error
        #[arg(long, conflicts_with = "apps")]
        sync: bool,
        /// This host's view even of an app with `hosts` (what the central box asks each host)
        #[arg(long, help_heading = FLEET_HOST)]
        local: bool,
    },
    /// Push staging dirs to their [[sync]] targets once
    #[command(after_long_help = EX_SYNC)]
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
    #[command(after_long_help = EX_WATCH)]
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
            required_unless_present_any = ["app", "mux"],
            conflicts_with_all = ["app", "mux"]
        )]
        root: Option<PathBuf>,
        /// Serve this app's staging dir (from this host's config) and run its releases for a
        /// fleet release on the central box
        #[arg(long, value_name = "APP", conflicts_with = "mux")]
        app: Option<String>,
        /// Serve several dirs at once, each opened by the client on one stream (what runner's
        /// ssh:// sync rows to one host share)
        #[arg(long)]
        mux: bool,
    },
    /// Plugin commands
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Print a shell completion script: `runner completions bash > /etc/bash_completion.d/runner`
    #[command(after_long_help = EX_COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write a commented runner.toml from what is on this machine: the apps under the deploy
    /// root, their restart, log and health, and the [[sync]] rows of old sync scripts
    #[command(after_long_help = EX_INIT)]
    Init {
        /// Where to write it
        #[arg(short, long, default_value = "runner.toml", value_name = "FILE")]
        out: PathBuf,
        /// Where the apps run: each dir under it holding jars becomes an app
        #[arg(long, default_value = "/opt/platform", value_name = "DIR")]
        deploy_root: PathBuf,
        /// Where new builds are staged
        #[arg(long, default_value = "/home/ops/update", value_name = "DIR")]
        staging: PathBuf,
        #[arg(long, default_value = "/backup", value_name = "DIR")]
        backup_root: PathBuf,
        #[arg(long, default_value = "/var/lib/runner", value_name = "DIR")]
        state_dir: PathBuf,
        /// Old `inotifywait | rsync` loop scripts to import as [[sync]] rows
        #[arg(long, value_name = "FILE", num_args = 1..)]
        from_script: Vec<PathBuf>,
        /// Overwrite FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Print runner's man page (roff): `runner man > /usr/local/share/man/man1/runner.1`
    Man,
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
    /// Write the WIT packages this runner speaks, to build a plugin against exactly them
    #[command(after_long_help = EX_PLUGIN_WIT)]
    Wit {
        /// Only this version, its plugin.wit straight into DIR (default: every version, each in
        /// DIR/<version>/)
        #[arg(long = "version", value_name = "VERSION")]
        wit_version: Option<String>,
        /// Where to write
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Call one hook of a plugin in the sandbox a release uses, outside any release: its
    /// decision, log lines, host calls made or denied, output, time and memory. Exit 0 on
    /// proceed or skip, 1 on abort, 2 when the call failed
    #[command(after_long_help = EX_PLUGIN_CALL)]
    Call(Box<PluginCall>),
    /// Write a standalone plugin project in DIR/NAME/: the WIT package it builds against, the
    /// source (it logs one line and proceeds on its hooks), build.sh and a README
    #[command(after_long_help = EX_PLUGIN_NEW)]
    New {
        /// The plugin's name: lower case letters, digits and `-`; its dir and .wasm take it
        name: String,
        /// The language it is written in (`--lang` is the global one, of runner's messages)
        #[arg(long, value_enum)]
        language: PluginLang,
        /// The hooks it asks for, comma-separated (default: release-start,release-end)
        #[arg(long, value_delimiter = ',', value_name = "HOOK,...")]
        hooks: Vec<String>,
        /// The WIT version it builds against (default: the newest this runner speaks)
        #[arg(long = "wit", value_name = "VERSION")]
        wit_version: Option<String>,
        /// Where to create NAME/
        #[arg(long, default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
}

/// A language `runner plugin new` writes a project in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PluginLang {
    Rust,
    Python,
    Js,
    C,
}

/// `runner plugin call`'s arguments: the event and the sandbox, as a `[[plugin]]` table would
/// set them.
#[derive(Debug, Args)]
pub struct PluginCall {
    /// The .wasm component
    pub wasm: PathBuf,
    /// The hook to call, e.g. before-restart
    pub hook: String,
    /// The app the event names
    #[arg(long, default_value = "demo", value_name = "APP")]
    pub app: String,
    /// An entry of the plugin's config, as `[plugin.config]` sets it (repeat it for more)
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The event from a JSON file: an event's fields, or a release from `runner history --json`
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// Grant `host.exec` of this program (allow.exec)
    #[arg(long, value_name = "PROGRAM")]
    pub allow_exec: Vec<String>,
    /// Grant this dir read-only (allow.dirs)
    #[arg(long, value_name = "DIR")]
    pub allow_dir: Vec<PathBuf>,
    /// Grant this dir read-write (allow.rw)
    #[arg(long, value_name = "DIR")]
    pub allow_rw: Vec<PathBuf>,
    /// Grant `host.http` to this host, or host:port (allow.http)
    #[arg(long, value_name = "HOST")]
    pub allow_http: Vec<String>,
    /// The hook's timeout
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// The plugin's memory limit
    #[arg(long, default_value = "64MiB", value_name = "SIZE")]
    pub memory: String,
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

/// The heading fleet-only flags are grouped under in `--help`.
const FLEET: &str = "Fleet options (an app with `hosts`, on the central box)";

/// The heading of the flags a fleet release passes to each host's runner.
const FLEET_HOST: &str = "On a fleet host (what the central box runs there)";

/// How a fleet release (an app with `hosts`, from the central box) rolls over the hosts.
#[derive(Debug, Clone, Args)]
pub struct FleetFlags {
    /// Hosts per batch: N, N% or a ramp like 1,25%,100% [default: 1]
    ///
    /// The last step of a ramp repeats. A batch starts only when every host of the one before
    /// has verified (or failed).
    #[arg(long, value_name = "N|N%|RAMP", help_heading = FLEET)]
    pub batch: Option<String>,
    /// Failed hosts tolerated before no new host is started [default: 0]
    #[arg(long, value_name = "N", help_heading = FLEET)]
    pub max_fail: Option<usize>,
    /// Wait this long between batches [default: 0s]
    #[arg(long, value_parser = humantime::parse_duration, help_heading = FLEET)]
    pub pause: Option<std::time::Duration>,
    /// When the roll stops on a failure, roll back the hosts already released
    #[arg(long, help_heading = FLEET)]
    pub rollback_on_failure: bool,
    /// Copy this runner to a host that lacks it (or has another version)
    ///
    /// Over ssh, to ~/.runner/bin/runner-<version> on the host, to a temp name, sha256 checked
    /// there, then renamed.
    #[arg(long, help_heading = FLEET)]
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
    #[arg(long, help_heading = FLEET_HOST)]
    pub local: bool,
    /// Print progress as JSON lines on stdout (steps, start-up log, outcome): what a fleet
    /// release reads from each host
    #[arg(long, help_heading = FLEET_HOST)]
    pub events: bool,
}

const EX_PLAN: &str = "Examples:\n  runner plan                    # every app
  runner plan pdms --entries     # and which classes changed in each modified jar
  runner -v plan pdms            # unchanged files too";

const EX_RELEASE: &str =
    "Examples:\n  runner release pdms            # plan, ask, back up, install, restart, verify
  runner release                 # in a terminal: pick from the apps with changes
  runner release --all --yes     # every app with something staged, no questions
  runner release --all -j 4      # four apps at once, a summary table at the end
  runner release pdms --dry-run  # the plan, and the plugins' dry run; nothing changes
  runner release pdms --batch 1,25%,100% --rollback-on-failure   # an app with hosts";

const EX_COMMON: &str =
    "Examples:\n  runner common                  # staged common libs into every app that has them
  runner common pdms --no-restart";

const EX_ROLLBACK: &str =
    "Examples:\n  runner rollback pdms           # undo the last release (or an interrupted one)
  runner rollback pdms --to 20261127T0542-pdms-3f2a   # back to just after that release";

const EX_RESTART: &str = "Examples:\n  runner restart pdms --yes      # restart, verify, drained by nginx-drain if configured
  runner restart                 # in a terminal: pick the apps
  runner restart pdms --batch 25%   # an app with hosts: a rolling restart";

const EX_HISTORY: &str =
    "Examples:\n  runner history                 # the last 20 records of every app
  runner history pdms --limit 5
  runner --json history pdms | jq '.records[-1].outcome'";

const EX_STATUS: &str =
    "Examples:\n  runner status                  # every app: deployed, drift, pending, health
  runner -v status pdms          # name the drifted files
  runner --json status | jq '.apps[] | select(.health.up == false) | .app'";

const EX_SYNC: &str = "Examples:\n  runner sync                    # every [[sync]] row once
  runner sync rsync://10.0.0.5/pdms -j 1";

const EX_WATCH: &str = "Examples:\n  runner watch                   # the service (see examples/systemd/runner-watch.service)
  runner watch --settle 5s --log-format json";

const EX_PLUGIN_WIT: &str = "\
Examples:
  runner plugin wit -o wit                    # wit/0.1.0/plugin.wit, wit/0.2.0/plugin.wit
  runner plugin wit --version 0.2.0 -o wit    # wit/plugin.wit, for wit-bindgen's `path`";

const EX_PLUGIN_NEW: &str = "\
Examples:
  runner plugin new deploy-notice --language rust     # ./deploy-notice/: Cargo.toml, src/lib.rs, wit/, build.sh
  runner plugin new gate --language python --hooks release-start,before-install
  runner plugin new notify --language js --wit 0.1.0 --dir ~/plugins
  runner plugin new audit --language c                # plugin.c; build.sh makes its bindings";

const EX_PLUGIN_CALL: &str = "\
Examples:
  runner plugin call target/plugins/hostile.wasm before-restart --set mode=abort
  runner plugin call drain.wasm before-host --allow-rw /etc/nginx/conf.d --allow-exec /usr/sbin/nginx
  runner --json history pdms --limit 1 > last.json && runner plugin call notify.wasm release-end --event last.json";

const EX_COMPLETIONS: &str = "Examples:\n  runner completions bash > /etc/bash_completion.d/runner
  runner completions zsh > \"${fpath[1]}/_runner\"";

const EX_INIT: &str = "Examples:\n  runner init                                   # ./runner.toml from /opt/platform\n  runner init -o /etc/runner/runner.toml --from-script /home/ops/sync/*.sh\n  runner init --deploy-root /data/apps --staging /data/update --force";

/// The language `--lang` asks for, read before clap parses (the help must be in it).
pub fn lang_arg(args: &[std::ffi::OsString]) -> Option<crate::i18n::Lang> {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--lang") {
            Some(v) if v.starts_with('=') => crate::i18n::Lang::parse(&v[1..]),
            Some("") => args.get(i + 1).and_then(|v| crate::i18n::Lang::parse(v)),
            _ => None,
        })
}

/// The command line, its help in the chosen language: in Chinese every about, argument help,
/// heading and example from `i18n/zh-CN/help.ftl` (the English is this file's doc comments).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    if crate::i18n::lang() != crate::i18n::Lang::ZhCn {
        return cmd;
    }
    let mut cmd = cmd;
    cmd.build();
    localize(cmd, "runner")
}

/// Every help text of `cmd` and its subcommands, translated; ids as in help.ftl.
fn localize(mut cmd: clap::Command, path: &str) -> clap::Command {
    use crate::i18n::help_zh;
    let t = |suffix: &str| help_zh(&format!("{}-{suffix}", help_key(path)));
    if let Some(s) = t("about") {
        cmd = cmd.about(s);
    }
    if let Some(s) = t("long") {
        cmd = cmd.long_about(s);
    }
    if cmd.get_after_long_help().is_some() {
        cmd = cmd.after_long_help(t("examples").unwrap_or_default());
    }
    let ids: Vec<(String, String, Option<String>, bool)> = cmd
        .get_arguments()
        .map(|a| {
            let id = a.get_id().to_string();
            // Global ones (and clap's own --help, --version) once, under the top command.
            let key = match a.is_global_set() || id == "help" || id == "version" {
                true => format!("runner--{id}"),
                false => format!("{}--{id}", help_key(path)),
            };
            let heading = a.get_help_heading().map(heading_id);
            (id, key, heading, a.is_positional())
        })
        .collect();
    for (id, key, heading, positional) in ids {
        let help = help_zh(&key);
        let long = help_zh(&format!("{key}-long"));
        let heading = match heading {
            Some(h) => help_zh(&h),
            None if positional => help_zh("heading-arguments"),
            None => help_zh("heading-options"),
        };
        cmd = cmd.mut_arg(&id, |mut a| {
            if let Some(h) = help {
                a = a.help(h);
            }
            if let Some(l) = long {
                a = a.long_help(l);
            }
            match heading {
                Some(h) => a.help_heading(h),
                None => a,
            }
        });
    }
    cmd = cmd
        .subcommand_help_heading(help_zh("heading-commands").unwrap_or_default())
        .help_template(format!(
            "{{about-with-newline}}\n{}{{usage}}\n\n{{all-args}}{{after-help}}",
            help_zh("usage").unwrap_or_default()
        ));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub = format!("{path}-{name}");
        cmd = cmd.mut_subcommand(&name, |s| localize(s, &sub));
    }
    cmd
}

/// The help.ftl name of a command path: clap's own `help` subcommand and what it lists share
/// the texts of the commands they describe (`runner-help-config-check` → `runner-config-check`).
fn help_key(path: &str) -> String {
    let parts: Vec<&str> = path.split('-').collect();
    if parts.last() == Some(&"help") {
        return "help".to_string();
    }
    parts
        .into_iter()
        .filter(|p| *p != "help")
        .collect::<Vec<_>>()
        .join("-")
}

/// The id of a help heading: `heading-` and its words (before any parenthesis), lower case.
fn heading_id(h: &str) -> String {
    let word: String = h
        .split('(')
        .next()
        .unwrap_or(h)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("heading-{word}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (sub)command, argument and heading of the command line, as help.ftl names it.
    fn help_ids() -> Vec<(String, String)> {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
            let raw = path;
            let path = &help_key(path);
            let text =
                |s: Option<&clap::builder::StyledStr>| s.map(|s| s.to_string()).unwrap_or_default();
            out.push((format!("{path}-about"), text(cmd.get_about())));
            if cmd.get_long_about().is_some() {
                out.push((format!("{path}-long"), text(cmd.get_long_about())));
            }
            if cmd.get_after_long_help().is_some() {
                out.push((format!("{path}-examples"), text(cmd.get_after_long_help())));
            }
            for a in cmd.get_arguments() {
                if a.is_hide_set() || a.get_help().is_none() {
                    continue;
                }
                let id = a.get_id().as_str();
                if a.is_global_set() && path != "runner" {
                    continue;
                }
                if id == "help" || id == "version" {
                    continue;
                }
                out.push((format!("{path}--{id}"), text(a.get_help())));
                if a.get_long_help().is_some() {
                    out.push((format!("{path}--{id}-long"), text(a.get_long_help())));
                }
                if let Some(h) = a.get_help_heading() {
                    out.push((heading_id(h), h.to_string()));
                }
            }
            for s in cmd.get_subcommands() {
                if s.is_hide_set() {
                    continue;
                }
                walk(s, &format!("{raw}-{}", s.get_name()), out);
            }
        }
        let mut out = Vec::new();
        let mut cmd = Cli::command();
        cmd.build();
        walk(&cmd, "runner", &mut out);
        for fixed in [
            "heading-arguments",
            "heading-options",
            "heading-commands",
            "usage",
            "runner--help",
            "runner--help-long",
            "runner--version",
        ] {
            out.push((fixed.to_string(), String::new()));
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// `--help` in Chinese misses nothing, and help.ftl holds nothing the command line lost.
    #[test]
    fn help_is_all_translated() {
        let want = help_ids();
        let have = crate::i18n::ids(&[crate::i18n::HELP_ZH_CN]);
        let missing: Vec<String> = want
            .iter()
            .filter(|(id, _)| !have.contains(id))
            .map(|(id, en)| format!("{id} = {}", en.replace('\n', "\n    ")))
            .collect();
        let stale: Vec<&String> = have
            .iter()
            .filter(|i| !want.iter().any(|(id, _)| id == *i))
            .collect();
        assert!(
            missing.is_empty(),
            "not in i18n/zh-CN/help.ftl (the English beside each id):\n{}",
            missing.join("\n")
        );
        assert!(stale.is_empty(), "in help.ftl but no such help: {stale:?}");
    }

    #[test]
    fn lang_is_read_before_parsing() {
        let args = |v: &[&str]| v.iter().map(|s| s.into()).collect::<Vec<_>>();
        use crate::i18n::Lang;
        assert_eq!(
            lang_arg(&args(&["runner", "--lang", "zh-CN"])),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            lang_arg(&args(&["runner", "--lang=en", "status"])),
            Some(Lang::En)
        );
        assert_eq!(lang_arg(&args(&["runner", "status"])), None);
    }
}
