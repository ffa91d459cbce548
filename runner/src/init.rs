//! `runner init`'s reading of a machine: the apps under a deploy root (their restart, log and
//! health, as the old scripts and Spring Boot's config have them), and the `[[sync]]` rows of
//! classic `inotifywait | rsync` loop scripts. Everything guessed says so, for the operator to
//! confirm. `cmd/init.rs` writes it out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::t;

/// A value `init` writes, and why it thinks so (`None`: certain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess<T> {
    pub value: T,
    pub why: Option<String>,
}

impl<T> Guess<T> {
    fn guessed(value: T, why: impl Into<String>) -> Guess<T> {
        Guess {
            value,
            why: Some(why.into()),
        }
    }
}

/// One app found under the deploy root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundApp {
    pub name: String,
    pub restart: Option<Guess<Vec<String>>>,
    pub log: Option<Guess<PathBuf>>,
    pub health: Option<Guess<String>>,
}

/// One `[[sync]]` row read from a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSync {
    pub source: String,
    pub target: String,
    pub password_file: Option<String>,
    /// Where it was read, and anything the operator should check.
    pub why: String,
}

/// Every dir directly under `root` that holds a jar (at most three levels down), as an app.
pub fn apps(root: &Path) -> Vec<FoundApp> {
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dirs
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        // `common` is the staged common libs' dir, not an app.
        .filter(|n| !n.starts_with('.') && n != "common" && is_app_name(n))
        .filter(|n| has_jar(&root.join(n)))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = root.join(&name);
            FoundApp {
                restart: restart(root, &name),
                log: newest_log(&dir),
                health: health(&dir),
                name,
            }
        })
        .collect()
}

/// A name that can be a TOML bare key and an app name runner accepts.
fn is_app_name(n: &str) -> bool {
    n.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn has_jar(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir)
        .max_depth(3)
        .into_iter()
        .filter_map(|e| e.ok())
        .any(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".jar"))
}

/// The old scripts' `service_local.sh <app>` beside the apps, else a systemd unit named like
/// the app.
fn restart(root: &Path, app: &str) -> Option<Guess<Vec<String>>> {
    let script = root.join("service_local.sh");
    if script.is_file() {
        return Some(Guess::guessed(
            vec![script.display().to_string(), app.to_string()],
            t!("init-why-service-local", path = &script),
        ));
    }
    let unit = format!("{app}.service");
    let found = [
        "/etc/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
    ]
    .iter()
    .map(|d| Path::new(d).join(&unit))
    .find(|p| p.is_file())?;
    Some(Guess::guessed(
        vec!["systemctl".into(), "restart".into(), unit],
        t!("init-why-systemd", path = &found),
    ))
}

/// The most recently written `*.log` under the app's `logs/` (or `log/`).
fn newest_log(dir: &Path) -> Option<Guess<PathBuf>> {
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for sub in ["logs", "log"] {
        for e in walkdir::WalkDir::new(dir.join(sub))
            .max_depth(2)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            let name = e.file_name().to_string_lossy();
            if !e.file_type().is_file() || !name.ends_with(".log") {
                continue;
            }
            let Some(t) = e.metadata().ok().and_then(|m| m.modified().ok()) else {
                continue;
            };
            if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                best = Some((t, e.path().to_path_buf()));
            }
        }
    }
    best.map(|(_, p)| Guess::guessed(p, t!("init-why-newest-log")))
}

/// Spring Boot's settings that make the health URL, from the app's `application.properties` /
/// `application.yml` (in the app dir, `config/` or `conf/`).
fn health(dir: &Path) -> Option<Guess<String>> {
    let mut settings = BTreeMap::new();
    let mut from = None;
    for sub in ["", "config", "conf"] {
        for name in [
            "application.properties",
            "application.yml",
            "application.yaml",
        ] {
            let p = dir.join(sub).join(name);
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let found = if name.ends_with(".properties") {
                properties(&text)
            } else {
                yaml(&text)
            };
            if found.contains_key("server.port") || found.contains_key("management.server.port") {
                from.get_or_insert(p);
            }
            for (k, v) in found {
                settings.entry(k).or_insert(v);
            }
        }
    }
    let from = from?;
    let port = settings
        .get("management.server.port")
        .or_else(|| settings.get("server.port"))?;
    let base = settings
        .get("management.endpoints.web.base-path")
        .map(|b| b.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "/actuator".to_string());
    let which = if settings.contains_key("management.server.port") {
        "management.server.port"
    } else {
        "server.port"
    };
    Some(Guess::guessed(
        format!("http://127.0.0.1:{port}{base}/health"),
        t!("init-why-spring", key = which, file = &from),
    ))
}

const KEYS: [&str; 3] = [
    "server.port",
    "management.server.port",
    "management.endpoints.web.base-path",
];

/// The keys of [`KEYS`] in a `.properties` file (`key=value` or `key: value`).
fn properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| KEYS.contains(&k.as_str()) && !v.is_empty() && !v.contains("${"))
        .collect()
}

/// The keys of [`KEYS`] in an `application.yml` (nested or dotted keys; the first document).
fn yaml(text: &str) -> BTreeMap<String, String> {
    use yaml_rust2::{Yaml, YamlLoader};
    fn walk(y: &Yaml, prefix: &str, out: &mut BTreeMap<String, String>) {
        let Yaml::Hash(h) = y else { return };
        for (k, v) in h {
            let Some(k) = k.as_str() else { continue };
            let key = if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Yaml::Hash(_) => walk(v, &key, out),
                Yaml::Integer(n) => {
                    out.insert(key, n.to_string());
                }
                Yaml::String(s) if !s.contains("${") => {
                    out.insert(key, s.clone());
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Some(doc) = YamlLoader::load_from_str(text)
        .ok()
        .and_then(|d| d.into_iter().next())
    {
        walk(&doc, "", &mut out);
    }
    out.retain(|k, _| KEYS.contains(&k.as_str()));
    out
}

/// The `[[sync]]` rows of classic sync scripts: each `rsync` command whose source and target
/// can be read (simple `name=value` variables resolved), and, for an rsync made of variables,
/// the `"dir,host,module,user"` rows the blog post's loop function is fed (in any of the
/// scripts: the rows often sit in the script that starts the loops). Returns the rows and what
/// could not be read.
pub fn syncs_from_scripts(scripts: &[(PathBuf, String)]) -> (Vec<FoundSync>, Vec<String>) {
    let csv: Vec<_> =
        scripts
            .iter()
            .flat_map(|(_, text)| csv_rows(text))
            .fold(Vec::new(), |mut all, row| {
                if !all.contains(&row) {
                    all.push(row);
                }
                all
            });
    let (mut rows, mut unread): (Vec<FoundSync>, Vec<String>) = (Vec::new(), Vec::new());
    for (path, text) in scripts {
        let (r, u) = from_script(path, text, &csv);
        // The same rsync twice (once before the loop, once in it) is one row.
        for row in r {
            if !rows
                .iter()
                .any(|x| x.source == row.source && x.target == row.target)
            {
                rows.push(row);
            }
        }
        unread.extend(u);
    }
    (rows, unread)
}

type CsvRow = (String, String, String, String);

fn from_script(path: &Path, text: &str, csv: &[CsvRow]) -> (Vec<FoundSync>, Vec<String>) {
    let joined = text.replace("\\\n", " ");
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut unread = Vec::new();
    let mut rsync_lines: Vec<(usize, Vec<String>)> = Vec::new();
    for (n, raw) in joined.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((name, value)) = assignment(line) {
            let value = expand(&value, &vars);
            vars.insert(name, value);
            continue;
        }
        let Some(at) = line.find("rsync ") else {
            continue;
        };
        let words = shlex::split(&expand(&line[at..], &vars)).unwrap_or_default();
        let cmd_end = words
            .iter()
            .position(|w| w == ">>" || w == ">" || w == "|" || w == ";" || w == "&&")
            .unwrap_or(words.len());
        rsync_lines.push((n + 1, words[..cmd_end].to_vec()));
    }
    for (line, words) in rsync_lines {
        let where_ = t!("init-where", path = path, line = line);
        match read_rsync(&words) {
            Some(r) if !r.src.contains('$') && !r.dest.contains('$') => match target(&r) {
                Some((target, note)) => rows.push(FoundSync {
                    source: r.src.trim_end_matches('/').to_string(),
                    target,
                    password_file: r.password_file.filter(|p| !p.contains('$')),
                    why: t!("init-why-script", at = &where_, note = note),
                }),
                None => unread.push(t!("init-unread-target", at = &where_, target = &r.dest)),
            },
            // Variables it cannot resolve: the blog post's function, fed "dir,host,module,user"
            // rows.
            Some(r) if r.dest.contains("::") && !csv.is_empty() => {
                let pw_note = match &r.password_file {
                    Some(p) if p.contains('$') => t!("init-note-password-file", file = p),
                    _ => String::new(),
                };
                for (dir, host, module, user) in csv {
                    let port = r.port.as_deref().filter(|p| !p.contains('$'));
                    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                    let base = last_component(dir);
                    rows.push(FoundSync {
                        source: dir.trim_end_matches('/').to_string(),
                        target: format!("rsync://{user}@{host}{port}/{module}/{base}"),
                        password_file: r.password_file.clone().filter(|p| !p.contains('$')),
                        why: t!(
                            "init-why-csv-row",
                            dir = dir,
                            host = host,
                            module = module,
                            user = user,
                            at = &where_,
                            base = base,
                            note = &pw_note
                        ),
                    });
                }
            }
            Some(r) => unread.push(t!(
                "init-unread-variables",
                at = &where_,
                src = &r.src,
                dest = &r.dest
            )),
            None => unread.push(t!("init-unread-not-rsync", at = &where_)),
        }
    }
    (rows, unread)
}

/// `name=value` (quoted or not) at the start of a line, with no command substitution.
fn assignment(line: &str) -> Option<(String, String)> {
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (name, value) = line.split_once('=')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    if value.contains('`') || value.contains("$(") {
        return None;
    }
    let words = shlex::split(value)?;
    match words.as_slice() {
        [one] => Some((name.to_string(), one.clone())),
        [] => Some((name.to_string(), String::new())),
        _ => None,
    }
}

/// `$name` and `${name}` replaced by the variables known; others left as they are.
fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
        // `$name` only where the name ends there.
        let plain = format!("${k}");
        let mut done = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find(&plain) {
            let after = &rest[i + plain.len()..];
            let ends = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            done.push_str(&rest[..i]);
            done.push_str(if ends { v } else { &plain });
            rest = after;
        }
        done.push_str(rest);
        out = done;
    }
    out
}

/// The quoted `"/dir,host,module,user"` rows in a script.
fn csv_rows(text: &str) -> Vec<CsvRow> {
    let mut out = Vec::new();
    for quoted in text.split(['"', '\'']).skip(1).step_by(2) {
        let f: Vec<&str> = quoted.split(',').map(str::trim).collect();
        if let [dir, host, module, user] = f.as_slice()
            && dir.starts_with('/')
            && [host, module, user]
                .iter()
                .all(|s| !s.is_empty() && !s.contains(['$', ' ', '/']))
        {
            let row = (
                dir.to_string(),
                host.to_string(),
                module.to_string(),
                user.to_string(),
            );
            if !out.contains(&row) {
                out.push(row);
            }
        }
    }
    out
}

/// What an rsync command line says.
#[derive(Debug)]
struct Rsync {
    src: String,
    dest: String,
    password_file: Option<String>,
    port: Option<String>,
}

fn read_rsync(words: &[String]) -> Option<Rsync> {
    let mut it = words.iter().skip(1);
    let mut positional = Vec::new();
    let (mut password_file, mut port) = (None, None);
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix("--password-file=") {
            password_file = Some(v.to_string());
        } else if w == "--password-file" {
            password_file = it.next().cloned();
        } else if let Some(v) = w.strip_prefix("--port=") {
            port = Some(v.to_string());
        } else if w == "-e" || w == "--rsh" {
            // `host:/path` is over ssh whatever the remote shell: its argument is no path.
            it.next();
        } else if !w.starts_with('-') {
            positional.push(w.clone());
        }
    }
    let dest = positional.pop()?;
    let src = positional.pop()?;
    Some(Rsync {
        src,
        dest,
        password_file,
        port,
    })
}

/// The runner target of an rsync destination, and a note when its path is a guess.
fn target(r: &Rsync) -> Option<(String, String)> {
    let base = last_component(&r.src);
    // Without a trailing slash rsync puts the dir itself under the destination.
    let into = |path: &str| {
        if r.src.ends_with('/') {
            (path.trim_end_matches('/').to_string(), String::new())
        } else {
            (
                format!("{}/{base}", path.trim_end_matches('/')),
                t!("init-note-no-slash", src = &r.src, base = base),
            )
        }
    };
    if let Some(rest) = r.dest.strip_prefix("rsync://") {
        let (path, note) = into(rest);
        return Some((format!("rsync://{path}"), note));
    }
    if let Some((host, module)) = r.dest.split_once("::") {
        let port = r
            .port
            .as_deref()
            .filter(|p| !p.contains('$'))
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let (path, note) = into(module);
        return Some((format!("rsync://{host}{port}/{path}"), note));
    }
    if let Some((host, path)) = r.dest.split_once(':')
        && !host.contains('/')
    {
        let (path, note) = into(path);
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        return Some((format!("ssh://{host}{path}"), note));
    }
    if r.dest.starts_with('/') {
        let (path, note) = into(&r.dest);
        return Some((format!("file://{path}"), note));
    }
    None
}

fn last_component(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blog_posts_loop_with_literal_paths() {
        let script = r#"#!/bin/bash
src=/home/ops/update/pdms/
pw=/etc/rsync.password
/usr/bin/inotifywait -mrq --timefmt '%d/%m/%y %H:%M' --format '%T %w%f%e' -e modify,delete,create,attrib $src | while read DATE TIME DIR FILE; do
  /usr/bin/rsync -vzrtopg --delete --progress --password-file=$pw $src rsync_backup@10.0.0.5::pdms >> /tmp/rsyncd.log
done
"#;
        let (rows, unread) = syncs_from_scripts(&[("sync.sh".into(), script.into())]);
        assert!(unread.is_empty(), "{unread:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].source, "/home/ops/update/pdms");
        assert_eq!(rows[0].target, "rsync://rsync_backup@10.0.0.5/pdms");
        assert_eq!(
            rows[0].password_file.as_deref(),
            Some("/etc/rsync.password")
        );
    }

    #[test]
    fn the_csv_rows_of_the_loop_function() {
        let script = r#"
inotify_rsync_fun () {
  dir=`echo $1 | awk -F"," '{print $1}'`; ip=`echo $1 | awk -F"," '{print $2}'`
  /usr/bin/inotifywait -mrq -e modify,delete,create,attrib ${dir} | while read DATE TIME DIR FILE; do
    /usr/bin/rsync -vzrtopg --delete --progress --password-file=/etc/rsync.password ${dir} ${user}@${ip}::${des} >> /tmp/rsyncd.log
  done
}
inotify_rsync_fun "/home/ops/update/pdms,10.0.0.5,pdms,rsync_backup" &
inotify_rsync_fun "/home/ops/update/gis,10.0.0.6,gis,rsync_backup" &
"#;
        let (rows, unread) = syncs_from_scripts(&[("s.sh".into(), script.into())]);
        assert!(unread.is_empty(), "{unread:?}");
        let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "rsync://rsync_backup@10.0.0.5/pdms/pdms",
                "rsync://rsync_backup@10.0.0.6/gis/gis"
            ]
        );
        assert_eq!(rows[1].source, "/home/ops/update/gis");
    }

    #[test]
    fn rows_in_the_script_that_starts_the_loops() {
        let legacy = include_str!("../../tests/fixtures/inotify-rsync.sh");
        let start = "bash inotify-rsync.sh /etc/rsync.password 873 \"/home/ops/update/pdms,10.0.0.5,pdms,rsync_backup\"\n";
        let (rows, unread) = syncs_from_scripts(&[
            ("inotify-rsync.sh".into(), legacy.into()),
            ("start.sh".into(), start.into()),
        ]);
        assert!(unread.is_empty(), "{unread:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target, "rsync://rsync_backup@10.0.0.5/pdms/pdms");
        assert!(rows[0].why.contains("add password_file"), "{}", rows[0].why);
    }

    #[test]
    fn rsync_over_ssh_and_what_it_cannot_read() {
        let script =
            "rsync -az --delete -e ssh /srv/a/ ops@app1:/home/ops/update/a\nrsync -a $X $Y\n";
        let (rows, unread) = syncs_from_scripts(&[("x.sh".into(), script.into())]);
        assert_eq!(rows[0].target, "ssh://ops@app1/home/ops/update/a");
        assert_eq!(unread.len(), 1, "{unread:?}");
    }

    #[test]
    fn spring_settings() {
        let p = properties(
            "server.port=8080\n# management.server.port=1\nmanagement.endpoints.web.base-path=/manage\n",
        );
        assert_eq!(p["server.port"], "8080");
        assert_eq!(p["management.endpoints.web.base-path"], "/manage");
        assert!(!p.contains_key("management.server.port"));
        let y = yaml("server:\n  port: 8080\nmanagement:\n  server:\n    port: 8081\n");
        assert_eq!(y["management.server.port"], "8081");
        assert!(yaml("server:\n  port: ${PORT:8080}\n").is_empty());
    }
}
