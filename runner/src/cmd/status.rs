//! `runner status [<app>…]`: per app, what is deployed (the last release that left the deploy
//! dir in a known state), drift since (files changed, added or gone behind runner's back),
//! staged changes waiting, a release in progress or interrupted, and health.

use serde::{Deserialize, Serialize};

use crate::config::{App, Config};
use crate::error::{ExitCode, Result};
use crate::history::{self, Record};
use crate::journal::{self, Kind};
use crate::lock;
use crate::manifest::{self, Drift};
use crate::outcome::Outcome;
use crate::plan::{self, PlanOptions};
use crate::report;

use super::Globals;

/// One app's status, as `--json` prints it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AppStatus {
    pub app: String,
    /// The release that left the deploy dir as it is (its last successful release, rollback
    /// or common install).
    pub deployed: Option<Deployed>,
    /// The last release when it is not `deployed` (it failed, or was rolled back).
    #[serde(skip_serializing_if = "Option::is_none")] // en: a function's path
    pub last: Option<Deployed>,
    /// Files changed, added or gone since runner left the deploy dir; absent when no release
    /// has recorded it yet.
    pub drift: Option<Drift>,
    /// Staged changes a release would carry out.
    pub pending: Option<usize>,
    /// A release running now, or one interrupted and not finished.
    #[serde(skip_serializing_if = "Option::is_none")] // en: a function's path
    pub busy: Option<Busy>,
    pub health: Option<Health>,
    /// What could not be found out (an unreadable dir, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")] // en: a function's path
    pub errors: Vec<String>,
    /// An app with `hosts`, on the central box: each host's own status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")] // en: a function's path
    pub hosts: Vec<HostStatus>,
}

/// One host of an app with `hosts`, as its own `runner status` tells it.
#[derive(Debug, Serialize, Deserialize)]
pub struct HostStatus {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a function's path
    pub status: Option<AppStatus>,
    /// Why there is no status: it could not be reached, or its runner could not tell.
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a function's path
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Deployed {
    pub id: String,
    pub kind: Kind,
    pub outcome: Outcome,
    pub finished: String,
    pub user: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Busy {
    /// `running` (its lock is held) or `interrupted` (a journal without a live holder:
    /// `runner release <app>` finishes it, `runner rollback <app>` undoes it).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")] // en: a function's path
    pub id: Option<String>,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")] // en: a function's path
    pub pid: Option<u32>,
    pub since: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Health {
    pub url: String,
    pub up: bool,
    /// The HTTP status, or why there was none.
    pub answer: String,
    /// The build the health body names (`version` or `build.version` of a JSON body).
    #[serde(skip_serializing_if = "Option::is_none")] // en: a function's path
    pub build: Option<String>,
}

impl AppStatus {
    /// Whether the app needs a look: down, drifted, or a release interrupted.
    pub fn troubled(&self) -> bool {
        self.health.as_ref().is_some_and(|h| !h.up)
            || self.drift.as_ref().is_some_and(|d| d.count() > 0)
            || self.busy.as_ref().is_some_and(|b| b.state == "interrupted")
            || !self.errors.is_empty()
            || self
                .hosts
                .iter()
                .any(|h| h.error.is_some() || h.status.as_ref().is_some_and(AppStatus::troubled))
    }
}

pub fn run(g: &Globals, apps: &[String], sync_only: bool, local: bool) -> Result<ExitCode> {
    let (_, cfg) = g.load()?;
    let service = crate::watch::read_live(&cfg.state_dir);
    if sync_only {
        let failing = service.as_ref().is_some_and(|w| {
            w.targets
                .iter()
                .any(|t| t.state == "failing" || t.state == "waiting")
        });
        if g.ui.json {
            report::print_json("sync", &service);
        } else {
            match &service {
                Some(w) => report::watch_table(w),
                None => g.ui.line(crate::t!("status-service-off")),
            }
        }
        return Ok(if failing || service.is_none() {
            ExitCode::FAILED
        } else {
            ExitCode::DONE
        });
    }
    let chosen: Vec<&App> = if apps.is_empty() {
        cfg.apps.values().collect()
    } else {
        apps.iter()
            .map(|a| cfg.app(a))
            .collect::<Result<Vec<_>>>()?
    };
    let statuses: Vec<AppStatus> = std::thread::scope(|s| {
        let handles: Vec<_> = chosen
            .iter()
            .map(|app| {
                s.spawn(|| {
                    if app.hosts.is_empty() || local {
                        status(&cfg, app)
                    } else {
                        fleet_status(&cfg, app)
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a status thread does not panic"))
            .collect()
    });
    if g.ui.json {
        report::print_json_doc(&[
            ("apps", serde_json::to_value(&statuses).unwrap_or_default()),
            ("sync", serde_json::to_value(&service).unwrap_or_default()),
        ]);
    } else {
        report::status_table(&statuses, g.ui.verbose);
        if let Some(w) = &service {
            println!();
            report::watch_table(w);
        }
    }
    Ok(if statuses.iter().any(AppStatus::troubled) {
        ExitCode::FAILED
    } else {
        ExitCode::DONE
    })
}

/// One app's status; what cannot be found out is said in `errors` (in English: it is a JSON
/// document's, which a fleet's central runner reads from its hosts).
pub fn status(cfg: &Config, app: &App) -> AppStatus {
    let mut errors = Vec::new();
    let english = |e: crate::error::Error| crate::i18n::english(|| e.to_string());
    let records = history::load(&cfg.state_dir, Some(&app.name)).unwrap_or_else(|e| {
        errors.push(english(e));
        Vec::new()
    });
    let deployed = records.iter().rev().find(|r| left_known_tree(r));
    let last = records
        .last()
        .filter(|r| deployed.is_none_or(|d| d.id != r.id));
    let drift = manifest::load(&cfg.state_dir, &app.name).and_then(|m| {
        manifest::drift(&cfg.state_dir, app, &m)
            .map_err(|e| errors.push(english(e)))
            .ok()
    });
    let pending = plan::plan_release(cfg, app, PlanOptions::default())
        .map(|p| p.pending().len())
        .map_err(|e| errors.push(english(e)))
        .ok();
    AppStatus {
        app: app.name.clone(),
        deployed: deployed.map(to_deployed),
        last: last.map(to_deployed),
        drift,
        pending,
        busy: busy(cfg, app),
        health: app.health.as_deref().map(health),
        errors,
        hosts: Vec::new(),
    }
}

/// An app with `hosts`, on the central box: each host's own `runner status`, asked over its
/// agent session (all hosts at once, up to the fleet's limit); the central box adds its last
/// roll and whether a roll holds the fleet lock.
pub fn fleet_status(cfg: &Config, app: &App) -> AppStatus {
    let names = crate::address::names(&app.hosts);
    let hosts = crate::threads::map_at_once(app.hosts.len(), crate::fleet::PARALLEL, |i| {
        host_status(cfg, app, &app.hosts[i], &names[i])
    });
    let records = history::load(&cfg.state_dir, Some(&app.name)).unwrap_or_default();
    let rolls: Vec<&Record> = records.iter().filter(|r| !r.hosts.is_empty()).collect();
    let deployed = rolls
        .iter()
        .rev()
        .find(|r| r.outcome == Outcome::Success && r.kind != Kind::Restart)
        .copied();
    let last = rolls
        .last()
        .copied()
        .filter(|r| deployed.is_none_or(|d| d.id != r.id));
    let busy = lock::live_holder(&cfg.state_dir, lock::Scope::Fleet(&app.name)).map(|h| Busy {
        state: "running".into(),
        id: None,
        user: h.user,
        pid: Some(h.pid),
        since: h.since,
    });
    AppStatus {
        app: app.name.clone(),
        deployed: deployed.map(to_deployed),
        last: last.map(to_deployed),
        drift: None,
        pending: None,
        busy,
        health: None,
        errors: Vec::new(),
        hosts,
    }
}

fn host_status(cfg: &Config, app: &App, to: &crate::address::SshTarget, name: &str) -> HostStatus {
    // A host's error is in the JSON document: English.
    let failed = |error: String| HostStatus {
        host: name.to_string(),
        status: None,
        error: Some(error),
    };
    let mut session = match crate::sync::Session::open_app(to, &cfg.fleet, &app.name) {
        Ok(s) => s,
        Err(e) => {
            return failed(crate::i18n::english(|| {
                crate::t!("fleet-host-connect", to = name, error = e.to_string())
            }));
        }
    };
    let mut doc = String::new();
    let ran = session.run(
        crate::agent::protocol::RunKind::Status,
        crate::agent::protocol::RunOptions::default(),
        &mut |line| {
            doc.push_str(line);
            doc.push('\n');
        },
    );
    session.close(ran.is_ok());
    let (_, stderr) = match ran {
        Ok(r) => r,
        Err(e) => return failed(crate::i18n::english(|| e.to_string())),
    };
    let status = serde_json::from_str::<serde_json::Value>(&doc)
        .ok()
        .and_then(|d| d["apps"].get(0).cloned())
        .and_then(|a| serde_json::from_value::<AppStatus>(a).ok());
    match status {
        Some(s) => HostStatus {
            host: name.to_string(),
            status: Some(s),
            error: None,
        },
        None => failed(
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim_start_matches("runner:").trim().to_string())
                .unwrap_or_else(|| crate::i18n::english(|| crate::t!("fleet-status-no-status"))),
        ),
    }
}

/// Whether a record put what is deployed there: a release, rollback or common install that
/// succeeded (a restart changes no file).
fn left_known_tree(r: &Record) -> bool {
    r.outcome == Outcome::Success && r.hosts.is_empty() && r.kind != Kind::Restart
}

fn to_deployed(r: &Record) -> Deployed {
    Deployed {
        id: r.id.clone(),
        kind: r.kind,
        outcome: r.outcome,
        finished: r.finished.clone(),
        user: r.user.clone(),
    }
}

fn busy(cfg: &Config, app: &App) -> Option<Busy> {
    if let Some(h) = lock::live_holder(&cfg.state_dir, lock::Scope::App(&app.name)) {
        let id = journal::load(&cfg.state_dir, &app.name)
            .ok()
            .flatten()
            .map(|j| j.id);
        return Some(Busy {
            state: "running".into(),
            id,
            user: h.user,
            pid: Some(h.pid),
            since: h.since,
        });
    }
    let j = journal::load(&cfg.state_dir, &app.name).ok().flatten()?;
    Some(Busy {
        state: "interrupted".into(),
        id: Some(j.id),
        user: j.user,
        pid: None,
        since: j.started,
    })
}

/// One GET of the health URL (2 s at most).
fn health(url: &str) -> Health {
    match crate::verify::health_agent().get(url).call() {
        Ok(mut r) => {
            let status = r.status();
            let body = r
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_string()
                .unwrap_or_default();
            let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let said_down = json
                .as_ref()
                .and_then(|j| j.get("status"))
                .and_then(|s| s.as_str())
                .is_some_and(|s| !s.eq_ignore_ascii_case("UP"));
            let build = json.as_ref().and_then(|j| {
                j.get("version")
                    .or_else(|| j.get("build").and_then(|b| b.get("version")))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            });
            Health {
                url: url.to_string(),
                up: status.is_success() && !said_down,
                answer: status.to_string(),
                build,
            }
        }
        Err(e) => Health {
            url: url.to_string(),
            up: false,
            answer: e.to_string(),
            build: None,
        },
    }
}
