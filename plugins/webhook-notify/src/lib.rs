//! webhook-notify: posts a release summary to a Slack, DingTalk or WeCom group webhook. A
//! notification never blocks a release: every failure is a warning and the answer is `proceed`.

use runner_plugin::v0_1::{ChangeAction, Decision, Event, Level, Request, host};

// The webhook's host is only known from config: the operator grants it with allow.http.
runner_plugin::plugin_v0_1! {
    name: "webhook-notify",
    hooks: ["release-end", "after-rollback"],
    handle: handle,
}
use serde_json::{Value, json};

/// How many changed paths a message lists.
const MAX_PATHS: usize = 10;

/// One hook call.
fn handle(event: Event) -> Decision {
    let message = match event.hook.as_str() {
        "release-end" => release_end(&event),
        "after-rollback" => after_rollback(&event),
        _ => return Decision::Proceed,
    };
    if let Err(e) = notify(&event, &message) {
        host::log(Level::Warn, &format!("notification not sent: {e}"));
    }
    Decision::Proceed
}

/// A message before it is shaped for one chat: a default title and its lines.
struct Message {
    title: String,
    summary: String,
    error: Option<String>,
    paths: Vec<String>,
    more: usize,
}

fn release_end(e: &Event) -> Message {
    let outcome = e.outcome.as_deref().unwrap_or("finished");
    let changed: Vec<_> = e
        .changes
        .iter()
        .filter(|c| c.action != ChangeAction::Unchanged)
        .collect();
    let files = if changed.len() == 1 { "file" } else { "files" };
    Message {
        title: format!("runner: {} {outcome}", e.app),
        summary: format!(
            "runner: {} {} on {}: {outcome} ({} {files} changed)",
            e.app,
            e.release_id,
            e.host,
            changed.len()
        ),
        error: e.error.clone(),
        paths: changed
            .iter()
            .take(MAX_PATHS)
            .map(|c| format!("{} {}", action(c.action), c.path))
            .collect(),
        more: changed.len().saturating_sub(MAX_PATHS),
    }
}

fn after_rollback(e: &Event) -> Message {
    let what = if e.error.is_some() {
        "rollback failed"
    } else {
        "rolled back"
    };
    Message {
        title: format!("runner: {} {what}", e.app),
        summary: format!("runner: {} {} on {}: {what}", e.app, e.release_id, e.host),
        error: e.error.clone(),
        paths: vec![],
        more: 0,
    }
}

fn action(a: ChangeAction) -> &'static str {
    match a {
        ChangeAction::Added => "added",
        ChangeAction::Modified => "modified",
        ChangeAction::Removed => "removed",
        ChangeAction::Unchanged => "unchanged",
    }
}

fn notify(e: &Event, m: &Message) -> Result<(), String> {
    let get = |key: &str| {
        e.config
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
    };
    let url = get("url")
        .filter(|u| !u.is_empty())
        .ok_or("config `url` is required")?;
    let format = get("format").unwrap_or("slack");
    // A configured title heads the message; the default one is only DingTalk's required title.
    let title = get("title").filter(|t| !t.is_empty());
    let error = m.error.as_deref().map(|s| truncate(s, 1000));
    let more = (m.more > 0).then(|| format!("… and {} more", m.more));

    let payload = match format {
        "slack" => {
            let mut lines: Vec<String> = title.map(|t| format!("*{t}*")).into_iter().collect();
            lines.push(m.summary.clone());
            lines.extend(error.map(|e| format!("error: {e}")));
            lines.extend(m.paths.iter().map(|p| format!("• `{p}`")));
            lines.extend(more);
            json!({ "text": lines.join("\n") })
        }
        "dingtalk" => {
            // DingTalk's markdown needs a blank line to break a paragraph. A robot guarded by a
            // keyword looks for it in the text: a configured title goes there too.
            let mut text = title.map(|t| format!("#### {t}\n\n")).unwrap_or_default();
            text.push_str(&format!("{}\n\n", m.summary));
            if let Some(e) = error {
                text.push_str(&format!("error: {e}\n\n"));
            }
            for p in m.paths.iter().map(String::as_str).chain(more.as_deref()) {
                text.push_str(&format!("- {p}\n"));
            }
            let title = title.unwrap_or(&m.title);
            json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text.trim_end() } })
        }
        "wecom" => {
            let mut lines: Vec<String> = title.map(|t| format!("**{t}**")).into_iter().collect();
            lines.push(m.summary.clone());
            lines.extend(error.map(|e| format!("<font color=\"warning\">error: {e}</font>")));
            lines.extend(m.paths.iter().map(|p| format!("> `{p}`")));
            lines.extend(more);
            json!({ "msgtype": "markdown", "markdown": { "content": lines.join("\n") } })
        }
        other => {
            return Err(format!(
                "config `format` = {other:?}: expected slack, dingtalk or wecom"
            ));
        }
    };

    // The URL carries the webhook's secret token: logs show its host only.
    let shown = host_of(url);
    if e.dry_run {
        host::log(
            Level::Info,
            &format!("dry run: not posting to the {format} webhook at {shown}"),
        );
        return Ok(());
    }
    let request = Request {
        method: "POST".to_string(),
        url: url.to_string(),
        headers: vec![("content-type".to_string(), "application/json".to_string())],
        body: payload.to_string().into_bytes(),
    };
    let response = host::http(&request).map_err(|err| format!("POST to {shown}: {err}"))?;
    let body = String::from_utf8_lossy(&response.body);
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "{shown} answered {}: {}",
            response.status,
            truncate(body.trim(), 300)
        ));
    }
    // DingTalk and WeCom answer 200 with {"errcode": 310000, "errmsg": "..."} when they refuse.
    if format != "slack"
        && let Ok(answer) = serde_json::from_str::<Value>(&body)
        && let Some(code) = answer.get("errcode").and_then(Value::as_i64)
        && code != 0
    {
        let msg = answer.get("errmsg").and_then(Value::as_str).unwrap_or("");
        return Err(format!(
            "{shown} refused the message: errcode {code}: {msg}"
        ));
    }
    host::log(
        Level::Info,
        &format!("posted to the {format} webhook at {shown}"),
    );
    Ok(())
}

/// `https://oapi.dingtalk.com/robot/send?access_token=…` → `oapi.dingtalk.com`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
