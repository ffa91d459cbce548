//! Every `--json` document and `--events` line against `docs/json.md`: a field that is not
//! documented there, has another type, or a documented field that is neither there nor
//! optional, fails.

use std::collections::BTreeMap;
use std::fs;

use crate::util::{Sandbox, free_port, jar, plugin_wasm, repo};

/// A type as `docs/json.md` writes it.
#[derive(Debug, Clone)]
pub enum Ty {
    Str,
    Num,
    Bool,
    Null,
    Any,
    List(Box<Ty>),
    Named(String),
    Or(Vec<Ty>),
}

fn parse_ty(s: &str) -> Ty {
    let s = s.trim();
    if s.contains(" or ") {
        return Ty::Or(s.split(" or ").map(parse_ty).collect());
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Ty::List(Box::new(parse_ty(inner)));
    }
    match s {
        "string" => Ty::Str,
        "number" => Ty::Num,
        "bool" => Ty::Bool,
        "null" => Ty::Null,
        "any" => Ty::Any,
        name => Ty::Named(name.to_string()),
    }
}

/// A named type: its fields, each with its type and whether it may be absent.
pub type Fields = BTreeMap<String, (Ty, bool)>;

/// Every `### Name` heading's table of `docs/json.md`.
pub fn documented() -> BTreeMap<String, Fields> {
    let text = fs::read_to_string(repo().join("docs/json.md")).unwrap();
    let mut types: BTreeMap<String, Fields> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            let name = h.split_whitespace().next().unwrap().to_string();
            types.insert(name.clone(), Fields::new());
            current = Some(name);
        } else if let (Some(name), Some(row)) = (&current, line.strip_prefix("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            let field = cells[0].trim_end_matches('`').to_string();
            let optional = cells.get(2).is_some_and(|m| m.starts_with("*optional*"));
            types
                .get_mut(name)
                .unwrap()
                .insert(field, (parse_ty(cells[1]), optional));
        }
    }
    types
}

fn check(
    v: &serde_json::Value,
    ty: &Ty,
    types: &BTreeMap<String, Fields>,
    path: &str,
) -> Vec<String> {
    use serde_json::Value as V;
    let wrong = |what: &str| vec![format!("{path}: expected {what}, got {v}")];
    match (ty, v) {
        (Ty::Any, _) | (Ty::Str, V::String(_)) | (Ty::Bool, V::Bool(_)) | (Ty::Null, V::Null) => {
            Vec::new()
        }
        (Ty::Num, V::Number(_)) => Vec::new(),
        (Ty::List(inner), V::Array(items)) => items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| check(item, inner, types, &format!("{path}[{i}]")))
            .collect(),
        (Ty::Or(alts), _) => {
            let tries: Vec<Vec<String>> = alts.iter().map(|t| check(v, t, types, path)).collect();
            if tries.iter().any(Vec::is_empty) {
                Vec::new()
            } else {
                tries.into_iter().min_by_key(Vec::len).unwrap()
            }
        }
        (Ty::Named(name), V::Object(map)) => {
            let fields = types
                .get(name)
                .unwrap_or_else(|| panic!("docs/json.md has no type {name}"));
            let mut errs = Vec::new();
            for (k, val) in map {
                match fields.get(k) {
                    Some((t, _)) => errs.extend(check(val, t, types, &format!("{path}.{k}"))),
                    None => errs.push(format!("{path}.{k}: not documented in {name}")),
                }
            }
            for (k, (_, optional)) in fields {
                if !optional && !map.contains_key(k) {
                    errs.push(format!("{path}.{k}: documented in {name}, missing"));
                }
            }
            errs
        }
        (Ty::Str, _) => wrong("a string"),
        (Ty::Num, _) => wrong("a number"),
        (Ty::Bool, _) => wrong("a bool"),
        (Ty::Null, _) => wrong("null"),
        (Ty::List(_), _) => wrong("a list"),
        (Ty::Named(n), _) => wrong(n),
    }
}

pub fn conforms(doc: &str, v: &serde_json::Value, types: &BTreeMap<String, Fields>) {
    let errs = check(v, &Ty::Named(doc.to_string()), types, doc);
    assert!(errs.is_empty(), "{}\n{v:#}", errs.join("\n"));
}

#[test]
fn every_json_document_is_as_documented() {
    let types = documented();
    let mirror = Sandbox::new("jsondocs-mirror");
    let src = Sandbox::new("jsondocs-src");
    fs::create_dir_all(&src.root).unwrap();
    fs::write(src.root.join("x.jar"), jar(&[("X", b"1")])).unwrap();
    // A jar cut short is held back: the report has a `skipped` entry.
    fs::write(src.root.join("cut.jar"), b"PK\x03\x04cut").unwrap();
    let sb = Sandbox::new("jsondocs")
        .app("svc", "restart = [\"true\"]")
        .app("other", "restart = [\"true\"]")
        // Down (nothing listens), never staged: status has its health and an error.
        .app(
            "web",
            &format!(
                "restart = [\"true\"]\nhealth = \"http://127.0.0.1:{}/health\"",
                free_port()
            ),
        )
        .plugin(&format!(
            "name = \"restart\"\nwasm = \"{}\"\nhooks = [\"before-restart\"]\nallow = {{ exec = [\"true\"] }}\nconfig = {{ command = [\"true\"] }}",
            plugin_wasm("restart-command").display()
        ))
        .with_extra(&format!(
            "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
            src.root.display(),
            mirror.root.display()
        ))
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"2")]));
    sb.stage("svc", "b.jar", &jar(&[("B", b"1")]));
    sb.stage("other", "bad.jar", b"not a zip");

    let plan = sb.run(&["--json", "plan", "svc", "--entries"]).success();
    conforms("PlanDoc", &plan.json(), &types);
    let dry = sb.run(&["--json", "release", "svc", "--dry-run"]).success();
    conforms("ReportsDoc", &dry.json(), &types);
    let rel = sb.run(&["--json", "release", "svc", "--yes"]).success();
    conforms("ReportsDoc", &rel.json(), &types);
    let restart = sb.run(&["--json", "restart", "svc", "--yes"]).success();
    conforms("ReportsDoc", &restart.json(), &types);
    let back = sb.run(&["--json", "rollback", "svc", "--yes"]).success();
    conforms("ReportsDoc", &back.json(), &types);
    let history = sb.run(&["--json", "history"]).success();
    conforms("HistoryDoc", &history.json(), &types);
    let status = sb.run(&["--json", "status"]).code_is(1);
    conforms("StatusDoc", &status.json(), &types);
    let service = sb.run(&["--json", "status", "--sync"]).code_is(1);
    conforms("WatchDoc", &service.json(), &types);
    let sync = sb.run(&["--json", "sync"]).success();
    conforms("SyncDoc", &sync.json(), &types);
    let plugins = sb.run(&["--json", "plugin", "list"]).success();
    conforms("PluginsDoc", &plugins.json(), &types);
    let wasm = plugin_wasm("nginx-drain");
    let check = sb
        .run(&["--json", "plugin", "check", wasm.to_str().unwrap()])
        .success();
    conforms("PluginDoc", &check.json(), &types);
    let hostile = plugin_wasm("hostile");
    let call = sb
        .run(&[
            "--json",
            "plugin",
            "call",
            hostile.to_str().unwrap(),
            "before-restart",
            "--set",
            "mode=exec-ungranted",
        ])
        .success();
    conforms("CallDoc", &call.json(), &types);
    assert_eq!(call.json()["call"]["host_calls"][0]["denied"], true);
    let config = sb.run(&["--json", "config", "check"]).success();
    conforms("ConfigDoc", &config.json(), &types);

    // Errors: an unknown app (usage), a bad jar (a failed plan).
    for (args, kind, exit) in [
        (&["--json", "release", "nope"][..], "unknown-app", 2),
        (&["--json", "release", "other", "--yes"][..], "bad-jar", 1),
    ] {
        let r = sb.run(args).code_is(exit);
        let doc = r.json();
        conforms("ErrorDoc", &doc, &types);
        assert_eq!(doc["error"]["kind"], kind, "{doc}");
        assert_eq!(doc["exit"], exit);
        assert!(
            r.stderr().contains("runner:"),
            "the human message stays on stderr"
        );
    }

    // --events lines.
    sb.stage("svc", "b.jar", &jar(&[("B", b"2")]));
    let ev = sb
        .run(&["release", "svc", "--yes", "--local", "--events"])
        .success();
    let lines: Vec<serde_json::Value> = ev
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 3, "{}", ev.stdout());
    for l in &lines {
        conforms("Line", l, &types);
    }
    let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    for k in ["point", "step", "report"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
}

/// The checker itself: an undocumented field, a wrong type and a missing field each fail.
#[test]
fn the_json_checker_catches_what_it_should() {
    let types = documented();
    let ok = serde_json::json!({"schema": 1, "error": {"kind": "usage", "message": "m", "help": null}, "exit": 2});
    assert!(check(&ok, &Ty::Named("ErrorDoc".into()), &types, "ErrorDoc").is_empty());
    let extra = serde_json::json!({"schema": 1, "error": {"kind": "usage", "message": "m", "help": null, "new": 1}, "exit": 2});
    assert_eq!(
        check(&extra, &Ty::Named("ErrorDoc".into()), &types, "ErrorDoc").len(),
        1
    );
    let retyped = serde_json::json!({"schema": "1", "error": {"kind": "usage", "message": "m", "help": null}, "exit": 2});
    assert_eq!(
        check(&retyped, &Ty::Named("ErrorDoc".into()), &types, "ErrorDoc").len(),
        1
    );
    let missing =
        serde_json::json!({"schema": 1, "error": {"kind": "usage", "message": "m", "help": null}});
    assert_eq!(
        check(&missing, &Ty::Named("ErrorDoc".into()), &types, "ErrorDoc").len(),
        1
    );
}
