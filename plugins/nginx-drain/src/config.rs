//! The plugin's `config` table: runner passes TOML strings as they are and other TOML values
//! (arrays, numbers) as JSON text.

/// What nginx-drain works on.
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    /// The included upstream file that holds our `server` line.
    pub upstream: String,
    /// Our server's address, as written in that file.
    pub server: String,
    pub test: Vec<String>,
    pub reload: Vec<String>,
    /// How long to wait after the reload for in-flight requests to finish.
    pub drain_ms: u32,
}

impl Config {
    /// The config for an event on `host`: `server`, or in a fleet, `servers` (a table of host
    /// → address as written in the upstream file) picks the address by the event's host.
    pub fn for_host(pairs: &[(String, String)], host: &str) -> Result<Config, String> {
        let servers = pairs.iter().find(|(k, _)| k == "servers").map(|(_, v)| v);
        let Some(servers) = servers else {
            return Config::parse(pairs);
        };
        let map: std::collections::BTreeMap<String, String> = serde_json::from_str(servers)
            .map_err(|e| {
                format!("config `servers`: expected a table of host = \"address\": {e}")
            })?;
        let server = map
            .get(host)
            .ok_or_else(|| format!("config `servers` has no entry for host `{host}`"))?;
        let mut with = pairs.to_vec();
        with.retain(|(k, _)| k != "server");
        with.push(("server".to_string(), server.clone()));
        Config::parse(&with)
    }

    pub fn parse(pairs: &[(String, String)]) -> Result<Config, String> {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let required = |key: &str| match get(key).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => Err(format!("config `{key}` is required")),
        };
        let argv_or = |key: &str, default: &[&str]| match get(key) {
            Some(v) => argv(v).map_err(|e| format!("config `{key}`: {e}")),
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
        };
        Ok(Config {
            upstream: required("upstream")?,
            server: required("server")?,
            test: argv_or("test", &["nginx", "-t"])?,
            reload: argv_or("reload", &["nginx", "-s", "reload"])?,
            drain_ms: match get("drain") {
                Some(v) => duration_ms(v).map_err(|e| format!("config `drain`: {e}"))?,
                None => 2000,
            },
        })
    }
}

/// An argv: a JSON array of strings (`["nginx", "-t"]`), or a plain string split on whitespace.
pub fn argv(value: &str) -> Result<Vec<String>, String> {
    let value = value.trim();
    let argv: Vec<String> = if value.starts_with('[') {
        serde_json::from_str(value).map_err(|e| format!("expected an array of strings: {e}"))?
    } else {
        value.split_whitespace().map(str::to_string).collect()
    };
    if argv.first().is_none_or(|p| p.is_empty()) {
        return Err("the command is empty".to_string());
    }
    Ok(argv)
}

/// A duration: `"500ms"`, `"2s"`, `"1.5s"`, `"1m"`, or a bare number of milliseconds.
pub fn duration_ms(value: &str) -> Result<u32, String> {
    let value = value.trim();
    let (number, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = value.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (value, 1.0)
    };
    let ms = number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n * scale)
        .filter(|ms| *ms <= f64::from(u32::MAX))
        .ok_or_else(|| format!("`{value}` is not a duration like \"2s\", \"500ms\" or 2000"))?;
    Ok(ms.round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::parse(&pairs(&[
            ("upstream", "/etc/nginx/conf.d/u.conf"),
            ("server", "a:1"),
        ]));
        assert_eq!(
            c,
            Ok(Config {
                upstream: "/etc/nginx/conf.d/u.conf".to_string(),
                server: "a:1".to_string(),
                test: vec!["nginx".to_string(), "-t".to_string()],
                reload: vec!["nginx".to_string(), "-s".to_string(), "reload".to_string()],
                drain_ms: 2000,
            })
        );
    }

    #[test]
    fn argv_from_json_or_words() {
        assert_eq!(
            argv(r#"["nginx","-t","-c","/etc/nginx/nginx.conf"]"#).unwrap(),
            ["nginx", "-t", "-c", "/etc/nginx/nginx.conf"]
        );
        assert_eq!(argv("nginx  -s reload").unwrap(), ["nginx", "-s", "reload"]);
        assert!(argv("[]").is_err());
        assert!(argv("  ").is_err());
        assert!(argv("[1, 2]").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2s"), Ok(2000));
        assert_eq!(duration_ms("500ms"), Ok(500));
        assert_eq!(duration_ms("1.5s"), Ok(1500));
        assert_eq!(duration_ms("1m"), Ok(60_000));
        assert_eq!(duration_ms("2000"), Ok(2000));
        assert_eq!(duration_ms("0"), Ok(0));
        assert!(duration_ms("-1s").is_err());
        assert!(duration_ms("soon").is_err());
        assert!(duration_ms("9999999999").is_err());
    }

    #[test]
    fn a_fleet_picks_the_server_by_host() {
        let kv = pairs(&[
            ("upstream", "/x"),
            (
                "servers",
                r#"{"ops@app1:22": "10.0.0.1:8080", "app2": "10.0.0.2:8080"}"#,
            ),
        ]);
        assert_eq!(
            Config::for_host(&kv, "app2").unwrap().server,
            "10.0.0.2:8080"
        );
        assert_eq!(
            Config::for_host(&kv, "ops@app1:22").unwrap().server,
            "10.0.0.1:8080"
        );
        assert!(
            Config::for_host(&kv, "app3")
                .unwrap_err()
                .contains("no entry for host `app3`")
        );
        // Without `servers`, `server` is used whatever the host.
        let one = pairs(&[("upstream", "/x"), ("server", "a:1")]);
        assert_eq!(Config::for_host(&one, "anything").unwrap().server, "a:1");
    }

    #[test]
    fn missing_keys_are_named() {
        assert_eq!(
            Config::parse(&pairs(&[("upstream", "/x")])),
            Err("config `server` is required".to_string())
        );
        let bad = pairs(&[("upstream", "/x"), ("server", "a"), ("drain", "later")]);
        assert!(
            Config::parse(&bad)
                .unwrap_err()
                .starts_with("config `drain`")
        );
    }
}
