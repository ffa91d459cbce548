//! `runner.toml`: the schema, its defaults, and validation that names file, line, column and key.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

mod overlap;

use crate::address::{SshTarget, Url};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::{t, text};

/// The Spring Boot start-up line, the default `ready` pattern.
pub const DEFAULT_READY: &str = r"Started \w+ in [\d.]+ seconds";
/// The Spring Boot failure banner, the default `fail` pattern.
// en: a pattern the app's log is matched against
pub const DEFAULT_FAIL: &str = "APPLICATION FAILED TO START";
/// Deployed paths never planned, backed up or removed unless the app sets its own `exclude`.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    "logs/**", "log/**", "run/**", "tmp/**", "temp/**", "*.log", "*.pid", "*.out",
];

/// The validated configuration the rest of runner works from.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub file: PathBuf,
    pub staging: PathBuf,
    pub deploy_root: PathBuf,
    pub backup_root: PathBuf,
    pub state_dir: PathBuf,
    pub common: PathBuf,
    pub keep_releases: usize,
    pub apps: BTreeMap<String, App>,
    pub sync: Vec<SyncTarget>,
    pub plugins: Vec<Plugin>,
    pub fleet: Fleet,
}

/// How the central box reaches the `hosts` of an app (fleet releases).
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// Extra ssh arguments (keys, config file, jump hosts).
    pub ssh_options: Vec<String>,
    /// `runner` on the hosts.
    pub agent: String,
    /// The hosts' config file (default: theirs, found as `runner` finds it).
    pub config: Option<String>,
    /// The runner `--install-agent` copies to hosts (default: this one if it is a static
    /// build, else a static build beside it; see `sync::agent_binary`).
    pub agent_binary: Option<PathBuf>,
}

/// One service and how to release it.
#[derive(Debug, Clone, Serialize)]
pub struct App {
    pub name: String,
    pub staging: PathBuf,
    pub deploy: PathBuf,
    pub restart: Restart,
    pub log: Option<PathBuf>,
    pub ready: Pattern,
    pub fail: Pattern,
    pub health: Option<String>,
    #[serde(with = "humantime_serde_str")]
    pub ready_timeout: Duration,
    #[serde(with = "humantime_serde_str")]
    pub restart_timeout: Duration,
    pub hosts: Vec<SshTarget>,
    pub mirror: bool,
    pub auto_release: bool,
    /// Deployed paths never planned, as written; `excluded` is them compiled.
    pub exclude: Vec<String>,
    #[serde(skip)]
    pub excluded: globset::GlobSet,
}

/// How an app is restarted: argv lists, never a shell.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    None,
    Restart(Vec<String>),
    StopStart {
        stop: Vec<String>,
        start: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncTarget {
    pub source: PathBuf,
    /// The target URL as written (what reports show); `url` is it parsed.
    pub target: String,
    #[serde(skip)]
    pub url: Url,
    pub password_file: Option<PathBuf>,
    /// Extra ssh arguments (`-i key`, `-F config`) for ssh:// targets.
    pub ssh_options: Vec<String>,
    /// The runner binary on the far end of an ssh:// target.
    pub agent: String,
}

/// What a plugin's failed call does to the release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// The release stops (a failed before-hook: nothing is touched).
    #[default]
    Abort,
    /// A warning, and the release goes on.
    Warn,
}

impl fmt::Display for OnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnError::Abort => "abort",
            OnError::Warn => "warn",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plugin {
    pub name: String,
    pub wasm: PathBuf,
    pub hooks: Vec<String>,
    pub on_error: OnError,
    #[serde(with = "humantime_serde_str")]
    pub timeout: Duration,
    pub memory: u64,
    pub allow: Allow,
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    #[serde(default)]
    pub exec: Vec<String>,
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    #[serde(default)]
    pub rw: Vec<PathBuf>,
    #[serde(default)]
    pub http: Vec<String>,
}

/// A compiled regex that keeps its source text for display.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s).map(Pattern).map_err(|e| {
            serde::de::Error::custom(t!("config-invalid-regex", error = e.to_string()))
        })
    }
}

/// A duration written as `120s`, `2m`, `500ms`.
#[derive(Debug, Clone, Copy)]
struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(t!(
                    "config-invalid-duration",
                    value = &s,
                    error = e.to_string()
                ))
            })
    }
}

/// A size written as `64MiB`, `512KiB`, or a plain byte count.
#[derive(Debug, Clone, Copy)]
struct ByteSize(u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s)
            .map(ByteSize)
            .ok_or_else(|| serde::de::Error::custom(t!("config-invalid-size", value = &s)))
    }
}

pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "KB" => 1 << 10,
        "MiB" | "M" | "MB" => 1 << 20,
        "GiB" | "G" | "GB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

mod humantime_serde_str {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    staging: PathBuf,
    deploy_root: PathBuf,
    backup_root: PathBuf,
    state_dir: PathBuf,
    common: Option<PathBuf>,
    keep_releases: Option<Spanned<usize>>,
    #[serde(default)]
    apps: BTreeMap<String, Spanned<RawApp>>,
    #[serde(default)]
    sync: Vec<Spanned<RawSync>>,
    #[serde(default)]
    plugin: Vec<Spanned<RawPlugin>>,
    fleet: Option<RawFleet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    #[serde(default)]
    ssh_options: Vec<String>,
    agent: Option<String>,
    config: Option<String>,
    agent_binary: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    staging: Option<PathBuf>,
    deploy: Option<PathBuf>,
    restart: Option<Vec<String>>,
    stop: Option<Vec<String>>,
    start: Option<Vec<String>>,
    log: Option<PathBuf>,
    ready: Option<Pattern>,
    fail: Option<Pattern>,
    health: Option<String>,
    ready_timeout: Option<HumanDuration>,
    restart_timeout: Option<HumanDuration>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    mirror: bool,
    #[serde(default)]
    auto_release: bool,
    exclude: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    source: PathBuf,
    target: String,
    password_file: Option<PathBuf>,
    #[serde(default)]
    ssh_options: Vec<String>,
    agent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    name: String,
    wasm: PathBuf,
    #[serde(default)]
    hooks: Vec<String>,
    on_error: Option<String>,
    timeout: Option<HumanDuration>,
    memory: Option<ByteSize>,
    #[serde(default)]
    allow: Allow,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
}

/// Hook names a plugin may subscribe to.
pub const HOOKS: &[&str] = &crate::hook::NAMES;

/// Where to look for the config when `-c` is not given.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("RUNNER_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let candidates = [
        PathBuf::from("runner.toml"),
        PathBuf::from("/etc/runner/runner.toml"),
    ];
    for c in &candidates {
        if c.is_file() {
            return Ok(c.clone());
        }
    }
    Err(Error::NoConfig {
        // en: the places looked in: an environment variable and paths
        tried: "$RUNNER_CONFIG, ./runner.toml, /etc/runner/runner.toml".into(),
    })
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config> {
    if path.is_dir() {
        return Err(Error::ConfigIsDir {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| Error::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_col(&String::from_utf8_lossy(&e.as_bytes()[..at]), at);
        Error::ConfigNotUtf8 {
            path: path.to_path_buf(),
            line,
            column,
        }
    })?;
    parse(path, &text)
}

/// Parses config text; `path` is used for messages and to resolve relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let raw: RawConfig = deserialize(path, text)?;
    let doc = Doc {
        path,
        text,
        base: base_dir(path),
    };
    let staging = doc.resolve(&raw.staging);
    let deploy_root = doc.resolve(&raw.deploy_root);
    let keep_releases = keep_releases(&doc, raw.keep_releases)?;

    let defaults = AppDefaults {
        staging: &staging,
        deploy_root: &deploy_root,
        ready: Pattern(regex::Regex::new(DEFAULT_READY).expect("valid default")),
        fail: Pattern(regex::Regex::new(DEFAULT_FAIL).expect("valid default")),
    };
    let mut apps = BTreeMap::new();
    for (name, spanned) in raw.apps {
        let app = app(&doc, &defaults, name, spanned)?;
        apps.insert(app.name.clone(), app);
    }
    let sync = raw
        .sync
        .into_iter()
        .enumerate()
        .map(|(i, s)| sync_target(&doc, i, s))
        .collect::<Result<Vec<_>>>()?;
    let plugins = raw
        .plugin
        .into_iter()
        .enumerate()
        .map(|(i, p)| plugin(&doc, i, p))
        .collect::<Result<Vec<_>>>()?;

    let cfg = Config {
        file: path.to_path_buf(),
        common: raw
            .common
            .map(|p| doc.resolve(&p))
            .unwrap_or_else(|| staging.join("common")),
        staging,
        deploy_root,
        backup_root: doc.resolve(&raw.backup_root),
        state_dir: doc.resolve(&raw.state_dir),
        keep_releases,
        apps,
        sync,
        plugins,
        fleet: fleet(raw.fleet, &doc),
    };
    overlap::check(&cfg)?;
    Ok(cfg)
}

/// The config file being parsed: messages point into it, relative paths are taken from its
/// directory (not the working directory, which differs between cron, systemd and a shell).
struct Doc<'a> {
    path: &'a Path,
    text: &'a str,
    base: PathBuf,
}

impl Doc<'_> {
    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// A validation error at `span`, in the same `file:line:column: key` form as serde's.
    fn at(&self, span: Range<usize>, key: String, message: Text) -> Error {
        let (line, column) = line_col(self.text, span.start);
        Error::Config {
            file: self.path.to_path_buf(),
            line,
            column,
            key,
            message: Box::new(message),
        }
    }
}

fn base_dir(path: &Path) -> PathBuf {
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."));
    crate::fsutil::absolute(base)
}

fn keep_releases(doc: &Doc, keep: Option<Spanned<usize>>) -> Result<usize> {
    match keep {
        Some(k) if *k.get_ref() == 0 => Err(doc.at(
            k.span(),
            "keep_releases".into(),
            text!("config-keep-releases-zero"),
        )),
        Some(k) => Ok(k.into_inner()),
        None => Ok(10),
    }
}

/// What an app falls back to for the keys it leaves out.
struct AppDefaults<'a> {
    staging: &'a Path,
    deploy_root: &'a Path,
    ready: Pattern,
    fail: Pattern,
}

fn app(doc: &Doc, defaults: &AppDefaults, name: String, spanned: Spanned<RawApp>) -> Result<App> {
    let span = spanned.span();
    let key = format!("apps.{name}");
    if !valid_name(&name) || name == "common" {
        return Err(doc.at(span, key, text!("config-app-name")));
    }
    let a = spanned.into_inner();
    let restart =
        restart(a.restart, a.stop, a.start).map_err(|m| doc.at(span.clone(), key.clone(), m))?;
    if let Some(h) = &a.health
        && !(h.starts_with("http://"))
    {
        return Err(doc.at(
            span,
            format!("{key}.health"),
            text!("config-health-not-http", url = h),
        ));
    }
    let exclude = a
        .exclude
        .unwrap_or_else(|| DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect());
    let mut excluded = globset::GlobSetBuilder::new();
    for g in &exclude {
        match globset::Glob::new(g) {
            Ok(glob) => {
                excluded.add(glob);
            }
            Err(e) => {
                return Err(doc.at(
                    span,
                    format!("{key}.exclude"),
                    text!("config-bad-glob", glob = g, error = e.to_string()),
                ));
            }
        }
    }
    let excluded = excluded.build().map_err(|e| {
        doc.at(
            span.clone(),
            format!("{key}.exclude"),
            text!("config-bad-globs", error = e.to_string()),
        )
    })?;
    let hosts = a
        .hosts
        .iter()
        .map(|h| {
            SshTarget::parse(h).map_err(|why| {
                doc.at(
                    span.clone(),
                    format!("{key}.hosts"),
                    text!("config-value-why", value = h, why = why.to_string()),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(App {
        staging: a
            .staging
            .map(|p| doc.resolve(&p))
            .unwrap_or_else(|| defaults.staging.join(&name)),
        deploy: a
            .deploy
            .map(|p| doc.resolve(&p))
            .unwrap_or_else(|| defaults.deploy_root.join(&name)),
        restart,
        log: a.log.map(|p| doc.resolve(&p)),
        ready: a.ready.unwrap_or_else(|| defaults.ready.clone()),
        fail: a.fail.unwrap_or_else(|| defaults.fail.clone()),
        health: a.health,
        ready_timeout: a
            .ready_timeout
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(120)),
        restart_timeout: a
            .restart_timeout
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(180)),
        hosts,
        mirror: a.mirror,
        auto_release: a.auto_release,
        exclude,
        excluded,
        name,
    })
}

/// An app's `restart`, or `stop` + `start`, or neither; the message names what is wrong.
fn restart(
    restart: Option<Vec<String>>,
    stop: Option<Vec<String>>,
    start: Option<Vec<String>>,
) -> std::result::Result<Restart, Text> {
    let restart = match (restart, stop, start) {
        (Some(r), None, None) => Restart::Restart(r),
        (None, Some(stop), Some(start)) => Restart::StopStart { stop, start },
        (None, None, None) => Restart::None,
        (Some(_), _, _) => return Err(text!("config-restart-and-stop-start")),
        _ => return Err(text!("config-stop-start-together")),
    };
    let empty_argv = match &restart {
        Restart::Restart(r) => r.is_empty(),
        Restart::StopStart { stop, start } => stop.is_empty() || start.is_empty(),
        Restart::None => false,
    };
    if empty_argv {
        return Err(text!("config-restart-empty"));
    }
    Ok(restart)
}

fn sync_target(doc: &Doc, i: usize, s: Spanned<RawSync>) -> Result<SyncTarget> {
    let span = s.span();
    let s = s.into_inner();
    let scheme = s.target.split_once("://").map(|(s, _)| s);
    if !matches!(scheme, Some("file" | "ssh" | "rsync")) {
        return Err(doc.at(
            span,
            format!("sync[{i}].target"),
            text!("config-sync-target-scheme", target = &s.target),
        ));
    }
    let url = Url::parse(&s.target).map_err(|why| {
        doc.at(
            span.clone(),
            format!("sync[{i}].target"),
            text!("config-value-why", value = &s.target, why = why.to_string()),
        )
    })?;
    if s.password_file.is_some() && scheme != Some("rsync") {
        return Err(doc.at(
            span,
            format!("sync[{i}].password_file"),
            text!("config-password-file-rsync-only"),
        ));
    }
    Ok(SyncTarget {
        source: doc.resolve(&s.source),
        target: s.target,
        url,
        password_file: s.password_file.map(|p| doc.resolve(&p)),
        ssh_options: s.ssh_options,
        agent: s.agent.unwrap_or_else(|| "runner".into()),
    })
}

fn plugin(doc: &Doc, i: usize, p: Spanned<RawPlugin>) -> Result<Plugin> {
    let span = p.span();
    let p = p.into_inner();
    for h in &p.hooks {
        if !HOOKS.contains(&h.as_str()) {
            return Err(doc.at(
                span,
                format!("plugin[{i}].hooks"),
                text!("config-unknown-hook", hook = h, known = HOOKS.join(", ")),
            ));
        }
    }
    let on_error = match p.on_error.as_deref() {
        None | Some("abort") => OnError::Abort,
        Some("warn") => OnError::Warn,
        Some(other) => {
            return Err(doc.at(
                span,
                format!("plugin[{i}].on_error"),
                text!("config-on-error", value = other),
            ));
        }
    };
    Ok(Plugin {
        name: p.name,
        wasm: doc.resolve(&p.wasm),
        hooks: p.hooks,
        on_error,
        timeout: p.timeout.map(|d| d.0).unwrap_or(Duration::from_secs(10)),
        memory: p.memory.map(|m| m.0).unwrap_or(64 << 20),
        allow: Allow {
            exec: p.allow.exec,
            dirs: p.allow.dirs.iter().map(|d| doc.resolve(d)).collect(),
            rw: p.allow.rw.iter().map(|d| doc.resolve(d)).collect(),
            http: p.allow.http,
        },
        config: plugin_config(p.config),
    })
}

/// Strings go to the plugin as they are; arrays, numbers and tables as JSON text.
fn plugin_config(config: BTreeMap<String, toml::Value>) -> BTreeMap<String, String> {
    config
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => (k, s),
            toml::Value::Datetime(d) => (k, d.to_string()),
            other => (k, serde_json::to_string(&other).unwrap_or_default()),
        })
        .collect()
}

fn fleet(raw: Option<RawFleet>, doc: &Doc) -> Fleet {
    let f = raw.unwrap_or(RawFleet {
        ssh_options: Vec::new(),
        agent: None,
        config: None,
        agent_binary: None,
    });
    Fleet {
        ssh_options: f.ssh_options,
        agent: f.agent.unwrap_or_else(|| "runner".into()),
        config: f.config,
        agent_binary: f.agent_binary.map(|p| doc.resolve(&p)),
    }
}

fn deserialize<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(path, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // `Spanned` fields show up as a segment of their own in the path: not a key.
        let mut key: Vec<String> = e
            .path()
            .to_string()
            .split('.')
            .filter(|s| !s.is_empty() && !s.starts_with("$__serde_spanned"))
            .map(str::to_string)
            .collect();
        // A missing key has no place in the file: name it, not whatever the error points at.
        if let Some(missing) = e
            .inner()
            .message()
            // en: serde's message, read for the key it names
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            key.push(missing.to_string());
        }
        toml_error(path, text, &key.join("."), e.inner())
    })
}

fn toml_error(path: &Path, text: &str, key: &str, e: &toml::de::Error) -> Error {
    let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    let key = if key.is_empty() || key == "." {
        key_at(text, line).unwrap_or_else(|| t!("config-key-document"))
    } else {
        key.to_string()
    };
    Error::Config {
        file: path.to_path_buf(),
        line,
        column,
        key,
        message: Box::new(text!("config-toml-message", message = e.message().trim())),
    }
}

/// For syntax errors serde gives no path: name the key written on that line, if any.
fn key_at(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.saturating_sub(1))?;
    let k = l.split('=').next()?.trim().trim_matches(['[', ']']);
    (!k.is_empty()).then(|| k.to_string())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with('.')
}

impl Config {
    /// Looks up an app by name, with the list of known apps in the error.
    pub fn app(&self, name: &str) -> Result<&App> {
        self.apps.get(name).ok_or_else(|| Error::UnknownApp {
            name: name.to_string(),
            known: self.apps.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "staging = \"/s\"\ndeploy_root = \"/d\"\nbackup_root = \"/b\"\nstate_dir = \"/v\"\n";

    fn err(extra: &str) -> String {
        parse(Path::new("/etc/runner.toml"), &format!("{BASE}{extra}"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_duration_names_line_and_key() {
        let e = err("[apps.pdms]\nready_timeout = \"12 parsecs\"\n");
        assert!(
            e.starts_with("/etc/runner.toml:6:17: key `apps.pdms.ready_timeout`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err("[apps.pdms]\nrestrat = [\"x\"]\n");
        assert!(
            e.contains(":6:1: key `apps.pdms.restrat`: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn bad_regex_is_named() {
        let e = err("[apps.pdms]\nready = \"Started (\"\n");
        assert!(
            e.contains(":6:9: key `apps.pdms.ready`: invalid regex"),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_names_line() {
        let e = err("keep_releases = = 3\n");
        assert!(e.contains(":5:") && e.contains("keep_releases"), "{e}");
    }

    #[test]
    fn defaults_resolve() {
        let c = parse(
            Path::new("/etc/runner.toml"),
            &format!("{BASE}[apps.pdms]\n"),
        )
        .unwrap();
        let a = c.app("pdms").unwrap();
        assert_eq!(a.deploy, Path::new("/d/pdms"));
        assert_eq!(a.staging, Path::new("/s/pdms"));
        assert_eq!(c.common, Path::new("/s/common"));
        assert!(
            a.ready
                .0
                .is_match("Started PdmsApplication in 12.3 seconds (process running for 13)")
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("12 parsecs"), None);
    }

    #[test]
    fn keys_are_named_in_plain_words() {
        let e = err("keep_releases = \"ten\"\n");
        assert!(e.contains("key `keep_releases`:"), "{e}");
        assert!(!e.contains("serde"), "{e}");
        let e = parse(
            Path::new("/etc/runner.toml"),
            "staging = \"/s\"\ndeploy_root = \"/d\"\nstate_dir = \"/v\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("key `backup_root`") && e.contains("missing field"),
            "{e}"
        );
        let e = err("[apps.pdms]\nready_timeout = 5\n");
        assert!(e.contains("key `apps.pdms.ready_timeout`"), "{e}");
    }

    #[test]
    fn a_dir_or_a_gbk_file_is_named_as_such() {
        let dir = std::env::temp_dir().join(format!("runner-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = load(&dir).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        assert_eq!(e.exit_code(), crate::error::ExitCode::USAGE);
        let gbk = dir.join("runner.toml");
        // `# 测试` in GBK: not UTF-8.
        let mut body = BASE.as_bytes().to_vec();
        body.extend_from_slice(b"# \xb2\xe2\xca\xd4\n");
        std::fs::write(&gbk, body).unwrap();
        let e = load(&gbk).unwrap_err().to_string();
        assert!(
            e.contains("runner.toml") && e.contains("not UTF-8") && e.contains("line 5"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
