//! `runner sync` and `runner agent`: file:// and ssh:// (a real sshd on 127.0.0.1 with
//! throwaway keys) targets, and a hostile peer that tries to write outside the agent's root.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use runner::agent::mux;
use runner::agent::protocol::{Frame, Msg, WireEntry, read_frame, write_data, write_msg};

use crate::util::{RUNNER, Sandbox, free_port, jar, sha_bytes, tree, wait_listening};

/// A private sshd on 127.0.0.1: its own host key, one authorized user key, killed on drop.
pub struct Sshd {
    pub port: u16,
    pub client_config: PathBuf,
    child: Child,
}

impl Sshd {
    fn start(root: &Path) -> Sshd {
        Sshd::start_on(root, free_port())
    }

    /// An sshd on a given port (writes `<root>/sshd/ssh_config` for clients).
    pub fn start_on(root: &Path, port: u16) -> Sshd {
        Sshd::start_with(root, port, "")
    }

    /// An sshd on `port` with extra `sshd_config` lines. Several sshd under one `root` share
    /// its host and user keys (one client config reaches them all).
    pub fn start_with(root: &Path, port: u16, extra: &str) -> Sshd {
        Sshd::start_full(root, port, extra, None)
    }

    /// An sshd that logs each login to `log`.
    pub fn start_logged(root: &Path, log: &Path) -> Sshd {
        Sshd::start_full(root, free_port(), "", Some(log))
    }

    /// The logins `log` (of [`Sshd::start_logged`]) recorded.
    pub fn logins(log: &Path) -> usize {
        fs::read_to_string(log)
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    }

    fn start_full(root: &Path, port: u16, extra: &str, log: Option<&Path>) -> Sshd {
        let dir = root.join("sshd");
        fs::create_dir_all(&dir).unwrap();
        for key in ["host_key", "user_key"] {
            if dir.join(key).exists() {
                continue;
            }
            let st = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .status()
                .unwrap();
            assert!(st.success());
        }
        fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
        let config = dir.join(format!("sshd_config-{port}"));
        fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd-{port}.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n\
                 StrictModes no\nUsePAM no\nLogLevel ERROR\n{extra}\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let client_config = dir.join("ssh_config");
        fs::write(
            &client_config,
            format!(
                "Host *\n  IdentityFile {d}/user_key\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                d = dir.display()
            ),
        )
        .unwrap();
        // sshd insists on its privilege-separation directory.
        let _ = fs::create_dir_all("/run/sshd");
        let mut cmd = Command::new("/usr/sbin/sshd");
        cmd.args(["-D", "-e", "-f"]).arg(&config);
        match log {
            Some(log) => cmd
                .args(["-o", "LogLevel=INFO"])
                .stderr(fs::File::create(log).unwrap()),
            None => cmd.stderr(Stdio::null()),
        };
        let child = cmd
            .stdout(Stdio::null())
            .spawn()
            .expect("sshd (tests/run.sh installs openssh-server)");
        wait_listening(port, "sshd");
        Sshd {
            port,
            client_config,
            child,
        }
    }

    /// The sshd's pid: the processes of its sessions descend from it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn target(&self, path: &Path) -> String {
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        format!("ssh://{user}@127.0.0.1:{}{}", self.port, path.display())
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A source tree with a jar, a nested dir and a plain file.
fn source(sb: &Sandbox) -> PathBuf {
    let src = sb.staging("pdms");
    fs::create_dir_all(src.join("lib/deep")).unwrap();
    fs::write(src.join("pdms.jar"), jar(&[("Main.class", &[1u8; 3000])])).unwrap();
    fs::write(src.join("lib/deep/util.jar"), jar(&[("U.class", b"u")])).unwrap();
    fs::write(src.join("notes.txt"), "hello").unwrap();
    src
}

fn with_sync(name: &str, row: impl FnOnce(&Sandbox) -> String) -> Sandbox {
    let sb = Sandbox::new(name);
    let body = row(&sb);
    let sb = sb.app("pdms", "restart = [\"true\"]");
    let sb = sb.with_extra(&format!("\n[[sync]]\n{body}\n"));
    sb.write_config()
}

/// One `[[sync]]` row from the app's staging dir to `file://<root>/remote`.
fn with_file_sync(name: &str) -> Sandbox {
    with_sync(name, |sb| {
        format!(
            "source = \"{}\"\ntarget = \"file://{}\"",
            sb.staging("pdms").display(),
            sb.root.join("remote").display()
        )
    })
}

#[test]
fn file_target_mirrors_and_a_second_sync_sends_nothing() {
    let sb = with_file_sync("syncfile");
    let src = source(&sb);
    let dst = sb.root.join("remote");
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(r[0]["sent"], 3);
    assert_eq!(tree(&dst), tree(&src));
    assert_eq!(
        fs::metadata(dst.join("pdms.jar")).unwrap().mtime(),
        fs::metadata(src.join("pdms.jar")).unwrap().mtime(),
        "mtime is kept"
    );

    fs::write(src.join("notes.txt"), "changed").unwrap();
    fs::remove_file(src.join("lib/deep/util.jar")).unwrap();
    fs::write(src.join("new.jar"), jar(&[("N", b"n")])).unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[0]["deleted"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(tree(&dst), tree(&src));
    assert!(!dst.join("lib/deep").exists(), "emptied dirs go too");

    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[0]["deleted"].as_u64()),
        (Some(0), Some(0))
    );
}

/// A missing or emptied source (an unmounted share) never empties a target that has files,
/// unless the operator says so.
#[test]
fn a_missing_or_empty_source_never_empties_the_target() {
    let sb = with_file_sync("syncempty");
    let src = source(&sb);
    let dst = sb.root.join("remote");
    sb.run(&["sync"]).success();
    let synced = tree(&dst);
    assert_eq!(synced.len(), 3);

    fs::remove_dir_all(&src).unwrap();
    let r = sb.run(&["sync"]).code_is(1);
    assert!(
        r.stderr().contains("does not exist (an unmounted share?)")
            && r.stderr().contains("nothing was deleted")
            && r.stderr().contains("--allow-delete-all"),
        "{}",
        r.stderr()
    );
    assert!(!src.exists(), "the source is not created");
    assert_eq!(tree(&dst), synced);

    fs::create_dir_all(&src).unwrap();
    let r = sb.run(&["sync"]).code_is(1);
    assert!(
        r.stderr().contains("is empty and the target holds 3 files"),
        "{}",
        r.stderr()
    );
    assert_eq!(tree(&dst), synced);

    let r = sb
        .run(&["--json", "sync", "--allow-delete-all"])
        .success()
        .doc("targets");
    assert_eq!(r[0]["deleted"], 3);
    assert!(tree(&dst).is_empty());
}

#[test]
fn many_targets_sync_in_parallel_and_all_arrive() {
    let sb = Sandbox::new("syncmany");
    let src = source(&sb);
    let rows: String = (0..6)
        .map(|i| {
            format!(
                "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
                src.display(),
                sb.root.join(format!("remote{i}")).display()
            )
        })
        .collect();
    let sb = sb
        .app("pdms", "restart = [\"true\"]")
        .with_extra(&rows)
        .write_config();
    let out = sb.run(&["sync", "-j", "3"]).success().stdout();
    assert!(out.contains("6 targets"), "a total row: {out}");
    let r = sb
        .run(&["--json", "sync", "-j", "3"])
        .success()
        .doc("targets");
    assert_eq!(
        r.as_array().unwrap().len(),
        6,
        "one report per target, in config order"
    );
    for (i, row) in r.as_array().unwrap().iter().enumerate() {
        assert!(
            row["target"]
                .as_str()
                .unwrap()
                .ends_with(&format!("remote{i}"))
        );
        assert_eq!(row["sent"], 0, "the first run sent everything");
        assert_eq!(tree(&sb.root.join(format!("remote{i}"))), tree(&src));
    }
}

#[test]
fn an_incomplete_jar_is_never_pushed() {
    let sb = with_sync("syncpartial", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"file://{}\"",
            sb.staging("pdms").display(),
            sb.root.join("remote").display()
        )
    });
    let src = source(&sb);
    let full = jar(&[("Big.class", &[7u8; 50_000]), ("More.class", &[3u8; 9000])]);
    fs::write(src.join("big.jar"), &full[..full.len() / 3]).unwrap();
    let r = sb.run(&["sync"]).success();
    assert!(r.stderr().contains("not pushed: big.jar"), "{}", r.stderr());
    assert!(!sb.root.join("remote/big.jar").exists());
    // Once complete it goes out.
    fs::write(src.join("big.jar"), &full).unwrap();
    sb.run(&["sync"]).success();
    assert_eq!(fs::read(sb.root.join("remote/big.jar")).unwrap(), full);
}

#[test]
fn ssh_target_through_a_real_sshd() {
    let sshd_root = Sandbox::new("sshd");
    let sshd = Sshd::start(&sshd_root.root);
    let sb = with_sync("syncssh", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"{}\"\nssh_options = [\"-F\", \"{}\"]\nagent = \"{RUNNER}\"",
            sb.staging("pdms").display(),
            sshd.target(&sb.root.join("remote")),
            sshd.client_config.display()
        )
    });
    let src = source(&sb);
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(r[0]["sent"], 3);
    assert_eq!(tree(&sb.root.join("remote")), tree(&src));
    fs::write(src.join("notes.txt"), "v2").unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(r[0]["sent"], 1);
    assert_eq!(
        fs::read_to_string(sb.root.join("remote/notes.txt")).unwrap(),
        "v2"
    );
}

/// Sessions to one host share one ssh connection, kept between commands: two rows to the
/// same host, synced twice, log in once. The sockets live in a dir only this user can enter.
#[test]
fn ssh_connections_are_shared_and_kept() {
    use std::os::unix::fs::PermissionsExt;
    let sshd_root = Sandbox::new("sshd-shared");
    let log = sshd_root.root.join("sshd.log");
    let sshd = Sshd::start_logged(&sshd_root.root, &log);
    let row = |sb: &Sandbox, remote: &str| {
        format!(
            "source = \"{}\"\ntarget = \"{}\"\nssh_options = [\"-F\", \"{}\"]\nagent = \"{RUNNER}\"",
            sb.staging("pdms").display(),
            sshd.target(&sb.root.join(remote)),
            sshd.client_config.display()
        )
    };
    let sb = Sandbox::new("syncshared");
    let body = format!(
        "{}\n\n[[sync]]\n{}",
        row(&sb, "remote-a"),
        row(&sb, "remote-b")
    );
    let sb = sb
        .app("pdms", "restart = [\"true\"]")
        .with_extra(&format!("\n[[sync]]\n{body}\n"))
        .write_config();
    let src = source(&sb);
    let r = sb
        .run(&["--json", "sync", "-j", "1"])
        .success()
        .doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[1]["sent"].as_u64()),
        (Some(3), Some(3))
    );
    fs::write(src.join("notes.txt"), "v2").unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[1]["sent"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(tree(&sb.root.join("remote-b")), tree(&src));
    assert_eq!(
        Sshd::logins(&log),
        1,
        "{}",
        fs::read_to_string(&log).unwrap()
    );
    // This state dir's path is too long for a socket under it: the sockets go to a private
    // dir of this user under /tmp, one per state dir.
    let uid = fs::metadata(&sb.root).unwrap().uid();
    let base = PathBuf::from(format!("/tmp/runner-{uid}-ssh"));
    assert!(!sb.root.join("state/ssh").exists());
    let dirs: Vec<PathBuf> = fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| fs::read_dir(d).unwrap().next().is_some())
        .collect();
    assert!(!dirs.is_empty(), "a socket under {}", base.display());
    for d in dirs.iter().chain([&base]) {
        let mode = fs::metadata(d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", d.display());
    }
    // An operator's own connection control wins: no sharing for that row.
    let cfg = fs::read_to_string(&sb.config).unwrap();
    fs::write(
        &sb.config,
        cfg.replace(
            "ssh_options = [",
            "ssh_options = [\"-o\", \"ControlMaster=no\", ",
        ),
    )
    .unwrap();
    fs::write(src.join("notes.txt"), "v3").unwrap();
    sb.run(&["sync", "-j", "1"]).success();
    assert_eq!(
        Sshd::logins(&log),
        2,
        "one more login, for one ssh session that carries both rows"
    );
    assert_eq!(tree(&sb.root.join("remote-a")), tree(&src));
    assert_eq!(tree(&sb.root.join("remote-b")), tree(&src));
    // The shared connection outlives runner by design (60 s): end it with the test.
    for d in dirs {
        let _ = Command::new("ssh")
            .args([
                "-F",
                sshd.client_config.to_str().unwrap(),
                "-O",
                "exit",
                "-o",
            ])
            .arg(format!("ControlPath={}/%C", d.display()))
            .args(["-p", &sshd.port.to_string(), "127.0.0.1"])
            .output();
    }
}

/// No runner where the row's `agent` points: the remote shell's exit status (127) says so, and
/// the message names the target, the path tried, and what to do.
#[test]
fn an_ssh_target_without_runner_says_so() {
    let sshd_root = Sandbox::new("sshd-noagent");
    let sshd = Sshd::start(&sshd_root.root);
    let sb = with_sync("syncnoagent", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"{}\"\nssh_options = [\"-F\", \"{}\"]\nagent = \"/opt/nowhere/runner\"",
            sb.staging("pdms").display(),
            sshd.target(&sb.root.join("remote")),
            sshd.client_config.display()
        )
    });
    source(&sb);
    let r = sb.run(&["sync"]).code_is(1);
    let err = r.stderr();
    assert!(
        err.contains("no runner agent there") && err.contains("/opt/nowhere/runner"),
        "{err}"
    );
    assert!(
        err.contains("help:") && err.contains("--install-agent"),
        "{err}"
    );
    assert!(!sb.root.join("remote").exists(), "nothing was written");
}

/// What answers where the row's `agent` points is not this runner: one from before `--mux`
/// (clap refuses the flag), a program that writes something other than frames, or frames of
/// an unknown kind. Each is a clear error naming what happened, and nothing is written.
#[test]
fn an_older_or_garbled_agent_is_a_clear_error() {
    let sshd_root = Sandbox::new("sshd-badagent");
    let sshd = Sshd::start(&sshd_root.root);
    let bin = sshd_root.root.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for (name, script, expect) in [
        (
            "old",
            "echo \"error: unexpected argument '--mux' found\" >&2; exit 2",
            "is an older runner",
        ),
        (
            "garbage",
            "printf 'garbage, not a frame'; sleep 30",
            "exceeds the limit",
        ),
        (
            "kind",
            "printf '\\0\\0\\0\\5\\11\\0\\0\\0\\0'; sleep 30",
            "unknown frame kind 9",
        ),
    ] {
        let agent = bin.join(name);
        fs::write(&agent, format!("#!/bin/sh\n{script}\n")).unwrap();
        fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let sb = with_sync(&format!("badagent-{name}"), |sb| {
            format!(
                "source = \"{}\"\ntarget = \"{}\"\nssh_options = [\"-F\", \"{}\"]\nagent = \"{}\"",
                sb.staging("pdms").display(),
                sshd.target(&sb.root.join("remote")),
                sshd.client_config.display(),
                agent.display()
            )
        });
        source(&sb);
        let t = std::time::Instant::now();
        let r = sb.run(&["sync"]).code_is(1);
        let err = r.stderr();
        assert!(err.contains(expect), "{name}: {err}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "{name}: runner dropped the stream at once rather than wait for the agent"
        );
        assert!(!sb.root.join("remote").exists(), "{name}: nothing written");
    }
}

/// A peer of another protocol version is told both versions, in the protocol, and the agent
/// serves nothing.
#[test]
fn a_peer_of_another_protocol_version_is_told_both() {
    let sb = Sandbox::new("oldpeer");
    let root = sb.root.join("root");
    let mut child = Command::new(RUNNER)
        .args(["agent", "--stdio", "--root"])
        .arg(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let old = runner::agent::protocol::VERSION - 1;
    let w = child.stdin.as_mut().unwrap();
    write_msg(
        w,
        &Msg::Hello {
            version: old,
            runner: "0.0.1".into(),
        },
    )
    .unwrap();
    w.flush().unwrap();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let Frame::Msg(Msg::Error { message }) = read_frame(&mut r).unwrap() else {
        panic!("expected an error for protocol {old}");
    };
    assert!(
        message.contains(&format!("protocol version {old} (runner 0.0.1)"))
            && message.contains(&format!("protocol {}", runner::agent::protocol::VERSION)),
        "{message}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(
        !root.exists() || tree(&root).is_empty(),
        "nothing was written"
    );
}

#[test]
fn an_unreachable_ssh_host_is_a_clear_error() {
    let port = free_port();
    let sb = with_sync("syncdown", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"ssh://nobody@127.0.0.1:{port}/srv/x\"\nssh_options = [\"-o\", \"ConnectTimeout=2\"]",
            sb.staging("pdms").display()
        )
    });
    source(&sb);
    let r = sb.run(&["sync"]).code_is(1);
    assert!(
        r.stderr()
            .contains(&format!("sync to ssh://nobody@127.0.0.1:{port}/srv/x"))
            && r.stderr().contains("Connection refused"),
        "{}",
        r.stderr()
    );
}

/// Talks raw frames to `runner agent --stdio`.
struct Peer {
    child: Child,
}

impl Peer {
    fn start(root: &Path) -> Peer {
        let child = Command::new(RUNNER)
            .args(["agent", "--stdio", "--root"])
            .arg(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut p = Peer { child };
        p.send(&Msg::Hello {
            version: runner::agent::protocol::VERSION,
            runner: "test".into(),
        });
        assert!(matches!(p.recv(), Msg::Hello { .. }));
        p
    }

    fn send(&mut self, m: &Msg) {
        let w = self.child.stdin.as_mut().unwrap();
        write_msg(w, m).unwrap();
        w.flush().unwrap();
    }

    fn recv(&mut self) -> Msg {
        match self.frame() {
            Frame::Msg(m) => m,
            Frame::Data(_) => panic!("data from the agent"),
        }
    }

    fn frame(&mut self) -> Frame {
        // Unbuffered: a buffer would swallow the frames after this one.
        read_frame(self.child.stdout.as_mut().unwrap()).unwrap()
    }

    /// The signature the agent sends for each path (empty: none), in order.
    fn sign(&mut self, paths: &[&str]) -> Vec<Vec<u8>> {
        self.send(&Msg::Sign {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        });
        let mut out = Vec::new();
        for want in paths {
            let Msg::Signature { path, bytes } = self.recv() else {
                panic!("no signature for {want}")
            };
            assert_eq!(path, *want);
            let mut sig = Vec::new();
            loop {
                match self.frame() {
                    Frame::Data(d) => sig.extend_from_slice(&d),
                    Frame::Msg(Msg::End) => break,
                    Frame::Msg(m) => panic!("{m:?} inside a signature"),
                }
            }
            assert_eq!(sig.len() as u64, bytes);
            out.push(sig);
        }
        out
    }

    /// A `PutDelta` of `delta`, announcing a file of `size` bytes with `sha256`.
    fn put_delta(&mut self, path: &str, delta: &[u8], size: u64, sha256: String) -> Msg {
        self.send(&Msg::PutDelta(WireEntry {
            path: path.into(),
            size,
            mode: 0o644,
            mtime_ns: 0,
            sha256,
        }));
        for c in delta.chunks(1 << 20) {
            write_data(self.child.stdin.as_mut().unwrap(), c).unwrap();
        }
        self.send(&Msg::End);
        self.recv()
    }

    fn put(&mut self, path: &str, body: &[u8]) -> Msg {
        self.send(&Msg::Put(WireEntry {
            path: path.into(),
            size: body.len() as u64,
            mode: 0o644,
            mtime_ns: 0,
            sha256: sha_bytes(body),
        }));
        write_data(self.child.stdin.as_mut().unwrap(), body).unwrap();
        self.send(&Msg::End);
        self.recv()
    }
}

#[test]
fn a_hostile_peer_writes_nothing_outside_the_root() {
    let sb = Sandbox::new("hostilepeer");
    let root = sb.root.join("root");
    let outside = sb.root.join("outside");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    let mut p = Peer::start(&root);
    for bad in [
        "../outside/x.jar".to_string(),
        "lib/../../outside/x.jar".to_string(),
        format!("{}/x.jar", outside.display()),
        "link/x.jar".to_string(),
        "link".to_string() + "/../x.jar",
    ] {
        match p.put(&bad, b"pwned") {
            Msg::Error { message } => assert!(message.starts_with(&bad), "{message}"),
            other => panic!("{bad}: accepted: {other:?}"),
        }
    }
    // A wrong checksum is refused and leaves no file.
    p.send(&Msg::Put(WireEntry {
        path: "ok.jar".into(),
        size: 3,
        mode: 0o644,
        mtime_ns: 0,
        sha256: sha_bytes(b"xyz"),
    }));
    write_data(p.child.stdin.as_mut().unwrap(), b"abc").unwrap();
    p.send(&Msg::End);
    assert!(matches!(p.recv(), Msg::Error { .. }));
    assert!(!root.join("ok.jar").exists());
    // A good file still lands: the session survived the refusals. It is visible only once
    // committed, and a commit installs just what was staged.
    assert!(matches!(p.put("lib/fine.jar", b"fine"), Msg::Staged { .. }));
    assert!(
        !root.join("lib/fine.jar").exists(),
        "staged, not yet visible"
    );
    p.send(&Msg::Commit);
    assert!(matches!(p.recv(), Msg::Committed { files: 1 }));
    assert_eq!(fs::read(root.join("lib/fine.jar")).unwrap(), b"fine");
    // Staged but never committed (the client went away): discarded, no temp left behind.
    assert!(matches!(
        p.put("lib/later.jar", b"later"),
        Msg::Staged { .. }
    ));

    // An oversized frame ends the session with an error, not a crash or a huge allocation.
    // The agent may hang up as soon as it has read the length, before the rest is written.
    let w = p.child.stdin.as_mut().unwrap();
    w.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let _ = w.write_all(&[1, 0, 0]).and_then(|()| w.flush());
    let out = p.child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exceeds the limit"));
    assert!(!root.join("lib/later.jar").exists());
    assert_eq!(
        fs::read_dir(root.join("lib")).unwrap().count(),
        1,
        "no temp file left: {:?}",
        fs::read_dir(root.join("lib")).unwrap().collect::<Vec<_>>()
    );
    assert!(
        fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing written outside root"
    );
}

/// Talks raw mux frames to `runner agent --stdio --mux`: each channel a session of the sync
/// protocol, its frames reassembled from the channel's data.
struct MuxPeer {
    child: Child,
    /// Each channel's bytes not yet read as frames, and whether the agent closed it (status).
    got: BTreeMap<u32, (Vec<u8>, Option<i32>, String)>,
}

impl MuxPeer {
    fn start() -> MuxPeer {
        let child = Command::new(RUNNER)
            .args(["agent", "--stdio", "--mux"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        MuxPeer {
            child,
            got: BTreeMap::new(),
        }
    }

    fn raw(&mut self, op: u8, ch: u32, payload: &[u8]) {
        let w = self.child.stdin.as_mut().unwrap();
        mux::write_mux(w, op, ch, payload).unwrap();
        w.flush().unwrap();
    }

    fn open(&mut self, ch: u32, root: &Path) {
        self.raw(mux::OPEN, ch, root.as_os_str().as_encoded_bytes());
    }

    fn send(&mut self, ch: u32, m: &Msg) {
        let mut b = Vec::new();
        write_msg(&mut b, m).unwrap();
        self.raw(mux::DATA, ch, &b);
    }

    fn data(&mut self, ch: u32, bytes: &[u8]) {
        let mut b = Vec::new();
        write_data(&mut b, bytes).unwrap();
        self.raw(mux::DATA, ch, &b);
    }

    /// Reads the stream until `ch` has a whole frame (a message) or is closed (None).
    fn recv(&mut self, ch: u32) -> Option<Msg> {
        loop {
            let (buf, status, _) = self.got.entry(ch).or_default();
            if buf.len() >= 4 {
                let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
                if buf.len() >= 4 + len {
                    let frame: Vec<u8> = buf.drain(..4 + len).collect();
                    match read_frame(&mut &frame[..]).unwrap() {
                        Frame::Msg(m) => return Some(m),
                        Frame::Data(_) => panic!("data on channel {ch}"),
                    }
                }
            }
            if status.is_some() {
                return None;
            }
            let f = mux::read_mux(self.child.stdout.as_mut().unwrap()).unwrap();
            let (buf, status, said) = self.got.entry(f.channel).or_default();
            match f.op {
                mux::DATA => buf.extend_from_slice(&f.payload),
                mux::SAID => said.push_str(&String::from_utf8_lossy(&f.payload)),
                mux::CLOSE => *status = Some(i32::from_be_bytes(f.payload[..].try_into().unwrap())),
                op => panic!("op {op} from the agent"),
            }
        }
    }

    fn hello(&mut self, ch: u32) {
        self.send(
            ch,
            &Msg::Hello {
                version: runner::agent::protocol::VERSION,
                runner: "test".into(),
            },
        );
        assert!(matches!(self.recv(ch), Some(Msg::Hello { .. })));
    }

    fn put_header(&mut self, ch: u32, path: &str, body: &[u8]) {
        self.send(
            ch,
            &Msg::Put(WireEntry {
                path: path.into(),
                size: body.len() as u64,
                mode: 0o644,
                mtime_ns: 0,
                sha256: sha_bytes(body),
            }),
        );
    }

    fn put(&mut self, ch: u32, path: &str, body: &[u8]) -> Msg {
        self.put_header(ch, path, body);
        self.data(ch, body);
        self.send(ch, &Msg::End);
        self.recv(ch).expect("an answer")
    }
}

/// One agent serves several roots over one stream, each channel a session of its own with the
/// same checks as `--root`: a channel's refusals, its interleaved data and its end leave the
/// others alone; a channel that cannot be served is told why; a broken stream ends them all
/// and writes nothing half.
#[test]
fn one_agent_serves_several_roots_over_one_stream() {
    let sb = Sandbox::new("muxpeer");
    let (a, b, outside) = (
        sb.root.join("a"),
        sb.root.join("b"),
        sb.root.join("outside"),
    );
    fs::create_dir_all(&outside).unwrap();
    fs::write(sb.root.join("file"), "not a dir").unwrap();
    let mut p = MuxPeer::start();
    p.open(1, &a);
    p.open(2, &b);
    p.hello(1);
    p.hello(2);
    // A root that cannot be made: that channel is told why and closed, the others go on.
    p.open(3, &sb.root.join("file/sub"));
    p.send(
        3,
        &Msg::Hello {
            version: runner::agent::protocol::VERSION,
            runner: "test".into(),
        },
    );
    assert_eq!(p.recv(3), None);
    assert_eq!(p.got[&3].1, Some(1));
    assert!(p.got[&3].2.contains("file/sub"), "{:?}", p.got[&3].2);
    // A file's data interleaved with another channel's whole session.
    let big = noise(3 << 20, 7);
    p.put_header(1, "lib/big.jar", &big);
    p.data(1, &big[..1 << 20]);
    match p.put(2, "../outside/x.jar", b"pwned") {
        Msg::Error { message } => assert!(message.starts_with("../outside"), "{message}"),
        other => panic!("accepted: {other:?}"),
    }
    assert!(matches!(p.put(2, "b.jar", b"bee"), Msg::Staged { .. }));
    p.send(2, &Msg::Commit);
    assert!(matches!(p.recv(2), Some(Msg::Committed { files: 1 })));
    p.data(1, &big[1 << 20..2 << 20]);
    p.data(1, &big[2 << 20..]);
    p.send(1, &Msg::End);
    assert!(matches!(p.recv(1), Some(Msg::Staged { .. })));
    p.send(1, &Msg::Commit);
    assert!(matches!(p.recv(1), Some(Msg::Committed { files: 1 })));
    assert_eq!(fs::read(a.join("lib/big.jar")).unwrap(), big);
    assert_eq!(fs::read(b.join("b.jar")).unwrap(), b"bee");
    // The client closes channel 2: its session ends cleanly; data after that is dropped.
    p.raw(mux::CLOSE, 2, &[]);
    assert_eq!(p.recv(2), None);
    assert_eq!(p.got[&2].1, Some(0));
    p.data(2, b"late");
    // Channel 1 is still served. A file staged and never committed, then a broken stream:
    // every session ends, the agent exits 1 and names why, nothing half-written is left.
    assert!(matches!(
        p.put(1, "lib/later.jar", b"later"),
        Msg::Staged { .. }
    ));
    let w = p.child.stdin.as_mut().unwrap();
    w.write_all(&u32::MAX.to_be_bytes()).unwrap();
    w.flush().unwrap();
    let out = p.child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exceeds the limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!a.join("lib/later.jar").exists());
    assert_eq!(
        fs::read_dir(a.join("lib")).unwrap().count(),
        1,
        "no temp file left"
    );
    assert!(fs::read_dir(&outside).unwrap().next().is_none());
}

/// Opening a channel that is open is a broken stream.
#[test]
fn a_channel_opened_twice_ends_the_stream() {
    let sb = Sandbox::new("muxtwice");
    let mut p = MuxPeer::start();
    p.open(5, &sb.root.join("a"));
    p.hello(5);
    p.open(5, &sb.root.join("b"));
    let out = p.child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("channel 5"));
    assert!(!sb.root.join("b").exists());
}

/// Bytes that do not compress or repeat, as a jar's deflated entries.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The delta path takes nothing on trust: a delta that does not rebuild the announced file,
/// garbage, one bigger than the file, one for a file that is not there, or through a symlink,
/// is refused, and the target's copy is left as it was, with no temp file beside it.
#[test]
fn a_hostile_delta_changes_nothing() {
    use runner::agent::delta;
    let sb = Sandbox::new("hostiledelta");
    let root = sb.root.join("root");
    let outside = sb.root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("x.jar"), noise(1200 << 10, 3)).unwrap();
    let mut p = Peer::start(&root);
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    let old = noise(1200 << 10, 5);
    assert!(matches!(p.put("lib/app.jar", &old), Msg::Staged { .. }));
    p.send(&Msg::Commit);
    assert!(matches!(p.recv(), Msg::Committed { files: 1 }));
    let mut new = old.clone();
    new[600_000..600_100].copy_from_slice(&noise(100, 7));
    let new_sha = sha_bytes(&new);

    // Only a real file under the root has a signature: not a missing one, not one outside.
    let sigs = p.sign(&[
        "lib/app.jar",
        "lib/missing.jar",
        "link/x.jar",
        "../outside/x.jar",
    ]);
    assert!(!sigs[0].is_empty());
    assert!(
        sigs[1..].iter().all(Vec::is_empty),
        "{:?}",
        sigs.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let d = delta::diff(sigs[0].clone(), &new).expect("a delta");
    assert!(
        d.len() < 10 << 10,
        "a 100-byte change is a small delta ({} bytes)",
        d.len()
    );

    let refused = |m: Msg, what: &str| match m {
        Msg::Error { message } => assert!(message.contains(what), "{message}"),
        other => panic!("accepted: {other:?}"),
    };
    // The right delta, the wrong announced content: the rebuilt file fails the sha256.
    refused(
        p.put_delta("lib/app.jar", &d, new.len() as u64, sha_bytes(&old)),
        "sha256",
    );
    // Garbage, and a delta against another file: they do not apply, or fail the sha256.
    refused(
        p.put_delta("lib/app.jar", b"garbage", new.len() as u64, new_sha.clone()),
        "delta",
    );
    let other = delta::diff(delta::signature(&noise(1200 << 10, 9)), &new);
    if let Some(other) = other {
        refused(
            p.put_delta("lib/app.jar", &other, new.len() as u64, new_sha.clone()),
            "lib/app.jar",
        );
    }
    // No file to start from, or one behind a symlink: refused.
    refused(
        p.put_delta("lib/missing.jar", &d, new.len() as u64, new_sha.clone()),
        "delta",
    );
    refused(
        p.put_delta("link/x.jar", &d, new.len() as u64, new_sha.clone()),
        "link",
    );
    // An announced size no delta may rebuild: refused before anything is allocated.
    refused(
        p.put_delta("lib/app.jar", &d, u64::MAX, new_sha.clone()),
        "delta",
    );
    p.send(&Msg::Commit);
    assert!(matches!(p.recv(), Msg::Committed { files: 0 }));
    assert_eq!(
        fs::read(root.join("lib/app.jar")).unwrap(),
        old,
        "unchanged"
    );
    assert_eq!(
        fs::read(outside.join("x.jar")).unwrap(),
        noise(1200 << 10, 3)
    );
    assert!(!root.join("lib/missing.jar").exists());

    // The good delta lands, byte for byte.
    assert!(matches!(
        p.put_delta("lib/app.jar", &d, new.len() as u64, new_sha),
        Msg::Staged { .. }
    ));
    p.send(&Msg::Commit);
    assert!(matches!(p.recv(), Msg::Committed { files: 1 }));
    assert_eq!(fs::read(root.join("lib/app.jar")).unwrap(), new);

    // More delta than the file it rebuilds ends the session, as too much data for a Put.
    p.send(&Msg::PutDelta(WireEntry {
        path: "lib/app.jar".into(),
        size: 10,
        mode: 0o644,
        mtime_ns: 0,
        sha256: sha_bytes(b"0123456789"),
    }));
    // The agent may be gone by the time the rest arrives.
    let w = p.child.stdin.as_mut().unwrap();
    let _ = write_data(w, &[0u8; 11]).and_then(|()| write_msg(w, &Msg::End));
    let _ = w.flush();
    let out = p.child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(root.join("lib/app.jar")).unwrap(), new);
    let names: Vec<_> = fs::read_dir(root.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["app.jar"], "no temp file left");
}

/// A changed file the target holds goes as a delta (an rsync signature of the target's copy,
/// then only what changed), arrives byte for byte, and costs a fraction of its size on the
/// wire; a new file goes whole.
#[test]
fn a_changed_big_file_goes_as_a_delta() {
    let sb = with_file_sync("syncdelta");
    let src = sb.staging("pdms");
    fs::create_dir_all(&src).unwrap();
    // A fat jar: 200 stored entries of 8 KiB noise (1.6 MB).
    let bodies: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| (format!("BOOT-INF/lib/e{i}.class"), noise(8 << 10, i + 1)))
        .collect();
    let entries = |b: &[(String, Vec<u8>)]| -> Vec<u8> {
        let refs: Vec<(&str, &[u8])> = b.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        jar(&refs)
    };
    fs::write(src.join("fat.jar"), entries(&bodies)).unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[0]["delta"].as_u64()),
        (Some(1), Some(0))
    );
    // One 8 KiB entry changes.
    let mut changed = bodies.clone();
    changed[120].1 = noise(8 << 10, 999);
    let fat = entries(&changed);
    fs::write(src.join("fat.jar"), &fat).unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(
        (r[0]["sent"].as_u64(), r[0]["delta"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(fs::read(sb.root.join("remote/fat.jar")).unwrap(), fat);
    let wire = r[0]["wire_sent"].as_u64().unwrap() + r[0]["wire_received"].as_u64().unwrap();
    assert!(
        wire < fat.len() as u64 / 10,
        "{wire} bytes on the wire for a {} byte file",
        fat.len()
    );
    assert_eq!(tree(&sb.root.join("remote")), tree(&src));
}

/// The hash cache runner keeps of `dir` (`<state>/cache/<sha256 of the path>[..16].json`):
/// path → sha256.
fn cached(state: &Path, dir: &Path) -> BTreeMap<String, String> {
    use std::os::unix::ffi::OsStrExt;
    let id = sha_bytes(dir.as_os_str().as_bytes());
    let file = state.join("cache").join(format!("{}.json", &id[..16]));
    let doc: serde_json::Value = fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    doc["entries"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v[1].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Never hash what runner already knows: a sync into an app's staging dir fills the hash cache
/// the release there plans with (the agent checked every file it received), and a release
/// fills its deploy dir's cache with what it installed (checked as it was written). Both
/// right after the files were written, when a plain hash would not be cached (too fresh).
#[test]
fn a_sync_and_a_release_leave_their_hashes_known() {
    let sb = with_sync("syncseed", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"file://{}\"",
            sb.root.join("central").display(),
            sb.staging("pdms").display()
        )
    });
    let central = sb.root.join("central");
    fs::create_dir_all(central.join("lib")).unwrap();
    fs::write(central.join("pdms.jar"), jar(&[("Main.class", b"v1")])).unwrap();
    fs::write(central.join("lib/util.jar"), jar(&[("U.class", b"u")])).unwrap();
    let r = sb.run(&["--json", "sync"]).success().doc("targets");
    assert_eq!(r[0]["sent"], 2);
    let state = sb.root.join("state");
    let want = tree(&central);
    let seeded = cached(&state, &sb.staging("pdms"));
    assert_eq!(seeded, want, "the release's cache of the staging dir");

    sb.run(&["release", "pdms", "--yes"]).success();
    let deploy = cached(&state, &sb.deploy("pdms"));
    for (path, sha) in &want {
        assert_eq!(
            deploy.get(path),
            Some(sha),
            "{path} in the deploy dir's cache: {deploy:?}"
        );
    }
}

/// A private rsync daemon on 127.0.0.1 with one authenticated module; killed on drop.
struct RsyncDaemon {
    port: u16,
    password_file: PathBuf,
    child: Child,
}

impl RsyncDaemon {
    fn start(root: &Path, module_path: &Path) -> RsyncDaemon {
        use std::os::unix::fs::PermissionsExt;
        let dir = root.join("rsyncd");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(module_path).unwrap();
        let secrets = dir.join("secrets");
        fs::write(&secrets, "rsync_backup:s3cret\n").unwrap();
        fs::set_permissions(&secrets, fs::Permissions::from_mode(0o600)).unwrap();
        let password_file = dir.join("password");
        fs::write(&password_file, "s3cret\n").unwrap();
        fs::set_permissions(&password_file, fs::Permissions::from_mode(0o600)).unwrap();
        let config = dir.join("rsyncd.conf");
        fs::write(
            &config,
            format!(
                "pid file = {d}/rsyncd.pid\nuse chroot = no\nuid = {uid}\ngid = {gid}\n[pdms]\n  path = {m}\n  read only = no\n  auth users = rsync_backup\n  secrets file = {s}\n",
                d = dir.display(),
                uid = fs::metadata(root).unwrap().uid(),
                gid = fs::metadata(root).unwrap().gid(),
                m = module_path.display(),
                s = secrets.display()
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("rsync")
            .args(["--daemon", "--no-detach", "--address=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--config={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsync (tests/run.sh installs it)");
        wait_listening(port, "rsync daemon");
        RsyncDaemon {
            port,
            password_file,
            child,
        }
    }
}

impl Drop for RsyncDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rsync_target_through_a_real_rsync_daemon() {
    let holder = Sandbox::new("rsyncd");
    let module = holder.root.join("module");
    let daemon = RsyncDaemon::start(&holder.root, &module);
    let row = |password: &Path| {
        format!(
            "target = \"rsync://rsync_backup@127.0.0.1:{}/pdms\"\npassword_file = \"{}\"",
            daemon.port,
            password.display()
        )
    };
    let sb = with_sync("syncrsync", |sb| {
        format!(
            "source = \"{}\"\n{}",
            sb.staging("pdms").display(),
            row(&daemon.password_file)
        )
    });
    let src = source(&sb);
    let full = jar(&[("Big.class", &[7u8; 50_000]), ("More.class", &[3u8; 9000])]);
    fs::write(src.join("big.jar"), &full[..full.len() / 2]).unwrap();
    let r = sb.run(&["--json", "sync"]).success();
    assert!(r.stderr().contains("not pushed: big.jar"), "{}", r.stderr());
    let mut want = tree(&src);
    want.remove("big.jar");
    assert_eq!(tree(&module), want);
    fs::remove_file(src.join("notes.txt")).unwrap();
    sb.run(&["sync"]).success();
    assert!(!module.join("notes.txt").exists(), "deletions propagate");

    // An emptied source (an unmounted share) is not pushed with --delete.
    let held = sb.root.join("held");
    fs::rename(&src, &held).unwrap();
    fs::create_dir_all(&src).unwrap();
    let before = tree(&module);
    let r = sb.run(&["sync"]).code_is(1);
    assert!(r.stderr().contains("--allow-delete-all"), "{}", r.stderr());
    assert_eq!(tree(&module), before, "nothing was deleted");
    fs::remove_dir(&src).unwrap();
    fs::rename(&held, &src).unwrap();

    // A wrong password is a failure with rsync's reason, not a silent success.
    let bad = sb.root.join("bad-password");
    fs::write(&bad, "wrong\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&bad, fs::Permissions::from_mode(0o600)).unwrap();
    let text = fs::read_to_string(&sb.config).unwrap();
    fs::write(
        &sb.config,
        text.replace(
            &daemon.password_file.display().to_string(),
            &bad.display().to_string(),
        ),
    )
    .unwrap();
    let r = sb.run(&["sync"]).code_is(1);
    assert!(r.stderr().contains("auth failed"), "{}", r.stderr());
}

#[test]
fn sync_hooks_see_each_batch_and_an_abort_stops_it() {
    let hostile = crate::util::plugin_wasm("hostile");
    let sb = with_sync("synchookabort", |sb| {
        format!(
            "source = \"{}\"\ntarget = \"file://{}\"\n\n[[plugin]]\nname = \"gate\"\nwasm = \"{}\"\nhooks = [\"before-sync\"]\nconfig = {{ mode = \"abort\" }}",
            sb.staging("pdms").display(),
            sb.root.join("remote").display(),
            hostile.display()
        )
    });
    source(&sb);
    let r = sb.run(&["sync"]).code_is(1);
    assert!(
        r.stderr()
            .contains("plugin `gate` aborted in before-sync: hostile says no"),
        "{}",
        r.stderr()
    );
    assert!(
        tree(&sb.root.join("remote")).is_empty(),
        "nothing was pushed"
    );

    let audit = crate::plugins::built_by_script("audit-log-py", "audit-log-py.wasm");
    let sb = Sandbox::new("synchookaudit");
    let dir = sb.root.join("audit");
    fs::create_dir_all(&dir).unwrap();
    let (staging, remote) = (sb.staging("pdms"), sb.root.join("remote"));
    let sb = sb.app("pdms", "restart = [\"true\"]").with_extra(&format!(
        "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n\n[[plugin]]\nname = \"audit\"\nwasm = \"{}\"\ntimeout = \"30s\"\nhooks = [\"before-sync\", \"after-sync\"]\nallow = {{ rw = [\"{}\"] }}\nconfig = {{ file = \"{}/audit.jsonl\" }}\n",
        staging.display(),
        remote.display(),
        audit.display(),
        dir.display(),
        dir.display()
    ));
    let sb = sb.write_config();
    source(&sb);
    sb.run(&["sync"]).success();
    let text = fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hooks: Vec<&str> = lines.iter().map(|l| l["hook"].as_str().unwrap()).collect();
    assert_eq!(hooks, ["before-sync", "after-sync"], "{text}");
    assert_eq!(lines[0]["app"], "pdms", "{text}");
    assert_eq!(lines[0]["changes"], 3, "{text}");
    // A batch with nothing to change calls no hook.
    sb.run(&["sync"]).success();
    assert_eq!(
        fs::read_to_string(dir.join("audit.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
}
