//! The test sandbox: a temp tree with staging/deploy/backup/state dirs, a `runner.toml`, the
//! real demo JVM app built with javac/jar, and the real `runner` binary to drive.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub const RUNNER: &str = env!("CARGO_BIN_EXE_runner");

/// The runner the fleet tests' hosts run and `--install-agent` sends: the static build when
/// `RUNNER_E2E_AGENT` names one (tests/run.sh builds it), else the one under test.
pub fn agent_runner() -> String {
    std::env::var("RUNNER_E2E_AGENT")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| RUNNER.to_string())
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn demo_dir() -> PathBuf {
    repo().join("examples/demo-app")
}

/// A build of the demo app: `app.jar` + `lib/demo-greeting.jar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Build {
    V1,
    V2,
    /// Logs APPLICATION FAILED TO START and exits.
    Broken,
}

/// Builds every demo build once per test run (javac + jar), returns its directory.
pub fn build(b: Build) -> PathBuf {
    static BUILDS: OnceLock<BTreeMap<Build, PathBuf>> = OnceLock::new();
    BUILDS
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("demo-builds-{}", std::process::id()));
            let mut m = BTreeMap::new();
            for (b, args) in [
                (Build::V1, vec!["1.0.0", "1.0.0"]),
                (Build::V2, vec!["2.0.0", "2.0.0"]),
                (Build::Broken, vec!["3.0.0", "3.0.0", "--fail"]),
            ] {
                let out = root.join(format!("{b:?}"));
                let st = Command::new("bash")
                    .arg(demo_dir().join("build.sh"))
                    .arg(&out)
                    .args(&args)
                    .status()
                    .expect("run build.sh");
                assert!(st.success(), "building the demo app failed");
                m.insert(b, out);
            }
            m
        })
        .get(&b)
        .unwrap()
        .clone()
}

/// The Rust plugins, built once per test run for wasm32-wasip2; returns a component's path.
pub fn plugin_wasm(crate_name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = repo().join("target/plugins");
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(repo().join("plugins/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("run cargo for the plugins");
        assert!(st.success(), "building the plugins failed");
        target.join("wasm32-wasip2/release")
    });
    dir.join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// Compiled components shared by every sandbox of the run (each compile happens once).
fn plugin_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// Waits until something accepts connections on 127.0.0.1:`port` (a daemon just started).
pub fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port for a server a test starts later. Never one handed out before in this run, and below
/// the kernel's ephemeral range: a port from that range (what binding port 0 gives) can be
/// handed to another test too once released, or be taken as the source port of some outgoing
/// connection (the nginx load loops open thousands a second) before the server binds it. Both
/// happened: a JVM that could not bind its port, and nginx with no live upstream.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let low: usize = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let span = low.saturating_sub(10_000).max(1_000);
    // Where this process starts in the span, so that two test runs at once rarely meet.
    let base = std::process::id() as usize * 7_919 % span;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < span, "no free port left below {low}");
        let port = (10_000 + (base + n) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

/// Every file under `root` (relative path → sha256), hidden temp files included.
pub fn snapshot(root: &Path) -> BTreeMap<String, String> {
    hashed(root, true)
}

/// Like `snapshot`, for a tree something else is writing: skips hidden names (the agent's
/// cache, temp files) and files that vanish while it reads.
pub fn tree(root: &Path) -> BTreeMap<String, String> {
    hashed(root, false)
}

/// `strict`: hidden files included and any read error fails the test; otherwise hidden names
/// are skipped and unreadable (vanished) files left out.
fn hashed(root: &Path, strict: bool) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if !root.exists() {
        return m;
    }
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            strict || e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
        });
    for e in walk {
        let e = match e {
            Ok(e) => e,
            Err(err) if strict => panic!("{err}"),
            Err(_) => continue,
        };
        if !e.file_type().is_file() {
            continue;
        }
        let bytes = match fs::read(e.path()) {
            Ok(b) => b,
            Err(err) if strict => panic!("{}: {err}", e.path().display()),
            Err(_) => continue,
        };
        let rel = e.path().strip_prefix(root).unwrap().to_str().unwrap();
        m.insert(rel.to_string(), sha_bytes(&bytes));
    }
    m
}

/// Result of a `runner` run.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn show(&self) -> String {
        format!(
            "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }
    pub fn success(self) -> Self {
        assert!(self.out.status.success(), "runner failed\n{}", self.show());
        self
    }
    pub fn code_is(self, code: i32) -> Self {
        assert_eq!(self.code(), Some(code), "unexpected exit\n{}", self.show());
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.show()))
    }

    /// The `key` of a `--json` document, which says `"schema": 1`.
    pub fn doc(&self, key: &str) -> serde_json::Value {
        let d = self.json();
        assert_eq!(d["schema"], 1, "no schema 1:\n{}", self.show());
        d.get(key)
            .unwrap_or_else(|| panic!("no `{key}` in the document:\n{}", self.show()))
            .clone()
    }
}

/// One test's world. Dropping it stops every JVM it started.
pub struct Sandbox {
    pub root: PathBuf,
    pub config: PathBuf,
    ports: BTreeMap<String, u16>,
    extra: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "e2e-{name}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        for d in ["staging", "deploy", "backup", "state"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        Sandbox {
            config: root.join("runner.toml"),
            root,
            ports: BTreeMap::new(),
            extra: String::new(),
        }
    }

    pub fn deploy(&self, app: &str) -> PathBuf {
        self.root.join("deploy").join(app)
    }
    pub fn staging(&self, app: &str) -> PathBuf {
        self.root.join("staging").join(app)
    }
    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }
    pub fn backups(&self, app: &str) -> PathBuf {
        self.root.join("backup").join(app)
    }

    /// Adds the demo JVM app `name`, deployed at build `b`, restarted by its service script,
    /// verified by its log and health URL. Call `start` to run it.
    pub fn jvm_app(mut self, name: &str, b: Build) -> Sandbox {
        let port = free_port();
        let dir = self.deploy(name);
        copy_build(b, &dir);
        fs::create_dir_all(dir.join("conf")).unwrap();
        fs::write(dir.join("conf/port"), port.to_string()).unwrap();
        let service = demo_dir().join("service.sh");
        self.extra.push_str(&format!(
            r#"
[apps.{name}]
restart = ["{service}", "restart", "{dir}"]
log = "{dir}/logs/app.log"
health = "http://127.0.0.1:{port}/actuator/health"
ready_timeout = "60s"
"#,
            service = service.display(),
            dir = dir.display(),
        ));
        self.ports.insert(name.to_string(), port);
        self
    }

    /// Adds an app with arbitrary extra config lines (no JVM).
    pub fn app(mut self, name: &str, body: &str) -> Sandbox {
        fs::create_dir_all(self.deploy(name)).unwrap();
        self.extra.push_str(&format!("\n[apps.{name}]\n{body}\n"));
        self
    }

    /// Adds a `[[plugin]]` table (after the apps).
    pub fn plugin(mut self, body: &str) -> Sandbox {
        self.extra.push_str(&format!("\n[[plugin]]\n{body}\n"));
        self
    }

    /// Appends raw TOML after the apps and plugins.
    pub fn with_extra(mut self, toml: &str) -> Sandbox {
        self.extra.push_str(toml);
        self
    }

    /// Writes `runner.toml`. Every app must be added first.
    pub fn write_config(self) -> Sandbox {
        let r = &self.root;
        let text = format!(
            "staging = \"{}\"\ndeploy_root = \"{}\"\nbackup_root = \"{}\"\nstate_dir = \"{}\"\n{}",
            r.join("staging").display(),
            r.join("deploy").display(),
            r.join("backup").display(),
            r.join("state").display(),
            self.extra
        );
        fs::write(&self.config, text).unwrap();
        self
    }

    /// Starts an app's JVM through its service script and waits until its health URL answers.
    pub fn start(&self, app: &str) {
        let st = Command::new(demo_dir().join("service.sh"))
            .args(["start", self.deploy(app).to_str().unwrap()])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        self.wait_healthy(app);
    }

    pub fn port(&self, app: &str) -> u16 {
        self.ports[app]
    }

    pub fn wait_healthy(&self, app: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.get(app, "/actuator/health").is_none() {
            assert!(Instant::now() < deadline, "{app} never became healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// GET a path of a running app; None if it does not answer 200.
    pub fn get(&self, app: &str, path: &str) -> Option<String> {
        let url = format!("http://127.0.0.1:{}{path}", self.ports[app]);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut r = agent.get(&url).call().ok()?;
        r.body_mut().read_to_string().ok()
    }

    pub fn version(&self, app: &str) -> String {
        self.get(app, "/version")
            .unwrap_or_else(|| format!("{app} is not serving"))
    }

    /// Puts a build's jars into an app's staging dir.
    pub fn stage_build(&self, app: &str, b: Build) {
        copy_build(b, &self.staging(app));
    }

    pub fn stage(&self, app: &str, rel: &str, bytes: &[u8]) {
        let p = self.staging(app).join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(RUNNER);
        c.arg("-c").arg(&self.config).arg("--color").arg("never");
        c.env_remove("RUNNER_FAULT");
        // English, UTF-8, whatever the machine's locale (a test of Chinese sets its own).
        c.env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8");
        c.env("RUNNER_PLUGIN_CACHE", plugin_cache());
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run {
            out: self.cmd().args(args).output().unwrap(),
        }
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        Run {
            out: c.output().unwrap(),
        }
    }
}

pub fn copy_build(b: Build, dst: &Path) {
    let src = build(b);
    for rel in ["app.jar", "lib/demo-greeting.jar"] {
        let to = dst.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(src.join(rel), &to).unwrap();
    }
}

/// A small valid jar with the given entries.
pub fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, b) in entries {
        z.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap().into_inner()
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for app in self.ports.keys() {
            let _ = Command::new(demo_dir().join("service.sh"))
                .args(["stop", self.deploy(app).to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

pub fn sha_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// `runner <args>` in a pseudo-terminal (`script`), as an operator's shell would run it, after
/// `setup` (shell words, e.g. `stty cols 80; `).
pub fn in_a_terminal(sb: &Sandbox, setup: &str, args: &str) -> std::process::Child {
    let cmdline = format!(
        "{setup}{} -c {} --color never {args}",
        RUNNER,
        sb.config.display()
    );
    std::process::Command::new("script")
        .args(["-qfec", &cmdline, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}
