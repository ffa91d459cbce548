//! nginx drain with a real nginx on 127.0.0.1 in front of two real JVM app instances: while one
//! is released, a load loop through nginx sees no failed request.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::util::{Build, Sandbox, free_port, plugin_wasm};

pub fn nginx_bin() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is installed (tests/run.sh installs it)")
}

/// A private nginx: its own prefix, config, pid and logs in the sandbox; stopped on drop.
pub struct Nginx {
    prefix: PathBuf,
    pub port: u16,
    pub upstream: PathBuf,
}

impl Nginx {
    pub fn start(root: &Path, servers: &[u16]) -> Nginx {
        let prefix = root.join("nginx");
        fs::create_dir_all(prefix.join("conf.d")).unwrap();
        fs::create_dir_all(prefix.join("logs")).unwrap();
        let port = free_port();
        let upstream = prefix.join("conf.d/demo-upstream.conf");
        let mut up = String::from("upstream demo_upstream {\n");
        for s in servers {
            up.push_str(&format!("    server 127.0.0.1:{s};\n"));
        }
        up.push_str("}\n");
        fs::write(&upstream, up).unwrap();
        // proxy_next_upstream off: a request sent to a node that is down fails visibly
        // instead of being retried on the other node, so the load loop sees every loss.
        let conf = format!(
            r#"worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/logs/error.log;
events {{ worker_connections 512; }}
http {{
    access_log off;
    include {p}/conf.d/*.conf;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://demo_upstream;
            proxy_next_upstream off;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"#,
            p = prefix.display()
        );
        fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let n = Nginx {
            prefix,
            port,
            upstream,
        };
        let out = Command::new(nginx_bin())
            .args(n.args(&[]))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nginx: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        n
    }

    /// nginx argv tail pointing at this instance: `-p <prefix> -c <conf> -e <log>` + extra.
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend([
            "-p".into(),
            self.prefix.display().to_string(),
            "-c".into(),
            self.prefix.join("nginx.conf").display().to_string(),
            "-e".into(),
            self.prefix.join("logs/error.log").display().to_string(),
        ]);
        v
    }

    pub fn argv_toml(&self, extra: &[&str]) -> String {
        let mut v = vec![nginx_bin().display().to_string()];
        v.extend(self.args(extra));
        format!(
            "[{}]",
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new(nginx_bin())
            .args(self.args(&["-s", "stop"]))
            .output();
    }
}

/// GETs through nginx on fresh connections until stopped: (ok, failed, bodies seen).
pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    bodies: Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    pub fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, o, f, seen) = (stop.clone(), ok.clone(), failed.clone(), bodies.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match get(port) {
                    Some((200, body)) => {
                        o.fetch_add(1, Ordering::Relaxed);
                        let mut seen = seen.lock().unwrap();
                        if !seen.contains(&body) {
                            seen.push(body);
                        }
                    }
                    _ => {
                        f.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        Load {
            stop,
            ok,
            failed,
            bodies,
            thread: Some(thread),
        }
    }

    /// Waits until the load loop itself has had a response containing `needle`.
    pub fn wait_for(&self, needle: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self
            .bodies
            .lock()
            .unwrap()
            .iter()
            .any(|b| b.contains(needle))
        {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn finish(mut self) -> (usize, usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.bodies.lock().unwrap().clone(),
        )
    }
}

pub fn get(port: u16) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: demo\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let status = resp.split_whitespace().nth(1)?.parse().ok()?;
    let body = resp
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    Some((status, body))
}

/// Two instances of the demo app behind nginx; `demo` is the one released.
fn fleet_behind_nginx(name: &str, drain: bool) -> (Sandbox, Nginx) {
    let sb = Sandbox::new(name)
        .jvm_app("demo", Build::V1)
        .jvm_app("peer", Build::V1);
    let ports = [sb.port("demo"), sb.port("peer")];
    let nginx = Nginx::start(&sb.root, &ports);
    let sb = if drain {
        sb.plugin(&format!(
            r#"name = "drain"
wasm = "{wasm}"
hooks = ["before-restart", "after-verify", "after-rollback", "release-end"]
timeout = "20s"
allow = {{ exec = ["{nginx}"], rw = ["{confd}"] }}
config = {{ upstream = "{upstream}", server = "127.0.0.1:{port}", test = {test}, reload = {reload}, drain = "700ms" }}"#,
            wasm = plugin_wasm("nginx-drain").display(),
            nginx = nginx_bin().display(),
            confd = nginx.upstream.parent().unwrap().display(),
            upstream = nginx.upstream.display(),
            port = ports[0],
            test = nginx.argv_toml(&["-t"]),
            reload = nginx.argv_toml(&["-s", "reload"]),
        ))
    } else {
        sb
    };
    let sb = sb.write_config();
    sb.start("demo");
    sb.start("peer");
    sb.stage_build("demo", Build::V2);
    (sb, nginx)
}

#[test]
fn drained_release_loses_no_request_and_restores_nginx() {
    let (sb, nginx) = fleet_behind_nginx("drain", true);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let load = Load::start(nginx.port);
    let r = sb.run(&["release", "demo", "--yes"]);
    // Keep the load going until it has been served the new build through nginx.
    load.wait_for("2.0.0", "the new build never served through nginx");
    let (ok, failed, bodies) = load.finish();
    eprintln!("drained release: {ok} requests ok, {failed} failed");
    let r = r.success();
    eprintln!("{}", r.stdout());
    assert!(r.stdout().contains("drain"), "{}", r.stdout());
    assert_eq!(
        failed, 0,
        "requests failed during a drained release ({ok} ok)"
    );
    assert!(ok > 50, "the load loop ran ({ok} requests)");
    assert!(bodies.iter().any(|b| b.contains("1.0.0")), "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("2.0.0")),
        "both nodes serve again: {bodies:?}"
    );
    assert_eq!(
        fs::read(&nginx.upstream).unwrap(),
        upstream_before,
        "the upstream file is as it was"
    );
    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let hooks: Vec<String> = h[0]["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["hook"].as_str().unwrap(),
                c["decision"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        hooks.contains(&"before-restart proceed".to_string()),
        "{hooks:?}"
    );
    assert!(
        hooks.contains(&"after-verify proceed".to_string()),
        "{hooks:?}"
    );
}

#[test]
fn without_drain_the_load_loop_sees_the_restart() {
    // The control: the same release with no drain plugin loses requests, so the zero above
    // is the plugin's doing and not a blind load loop.
    let (sb, nginx) = fleet_behind_nginx("nodrain", false);
    let load = Load::start(nginx.port);
    sb.run(&["release", "demo", "--yes"]).success();
    let (ok, failed, _) = load.finish();
    eprintln!("release without drain: {ok} requests ok, {failed} failed");
    assert!(
        failed > 0,
        "a restart behind nginx without drain should fail requests ({ok} ok)"
    );
}
