//! The ssh transport: the command line for a host, and copying this runner to a host that
//! lacks it.

use std::process::{Command, Stdio};

use crate::address::SshTarget;
use crate::error::{Error, Result};
use crate::inventory;

/// `ssh [batch options] [options] [-p port] [user@]host -- <remote>`.
pub(super) fn ssh(to: &SshTarget, options: &[String], remote: &str) -> Command {
    let mut c = Command::new("ssh");
    c.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=3",
    ]);
    c.args(options);
    if let Some(p) = to.port {
        c.arg("-p").arg(p.to_string());
    }
    c.arg(to.destination());
    c.arg("--").arg(remote);
    c
}

/// Copies this very binary to `~/.runner/bin/runner-<version>` on the host (temp name, sha256
/// checked there, then renamed), for a host that lacks runner or has another version. Returns
/// the agent path to use.
pub fn install_agent(to: &SshTarget, options: &[String]) -> Result<String> {
    let fail = |message: String| Error::Sync {
        target: to.to_string(),
        message,
    };
    let exe =
        std::env::current_exe().map_err(Error::io("locate", crate::t!("sync-runner-itself")))?;
    let sha = inventory::hash_file(&exe, &mut |_| {})?;
    let body = std::fs::File::open(&exe).map_err(Error::io("read", &exe))?;
    let version = env!("CARGO_PKG_VERSION");
    let dest = format!(".runner/bin/runner-{version}");
    let script = format!(
        // en: a shell script for the host (its mismatch line reaches the error as the host says it)
        "set -e; cd \"$HOME\"; mkdir -p .runner/bin; t=$(mktemp .runner/bin/.runner.XXXXXX); cat > \"$t\"; \
         s=$(sha256sum \"$t\" | cut -d' ' -f1); \
         if [ \"$s\" != {sha} ]; then rm -f \"$t\"; echo \"sha256 mismatch: $s\" >&2; exit 1; fi; \
         chmod 755 \"$t\"; mv -f \"$t\" {dest}; echo \"$HOME/{dest}\""
    );
    // The binary streams from its file into ssh's stdin.
    let out = ssh(to, options, &script)
        .stdin(Stdio::from(body))
        .output()
        .map_err(|e| fail(format!("ssh: {e}")))?;
    if !out.status.success() {
        return Err(fail(crate::t!(
            "sync-ssh-exited",
            status = out.status.to_string(),
            stderr = String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    tracing::info!(%path, "{}", crate::t!("sync-agent-installed"));
    Ok(path)
}

/// Quotes a word for the remote shell ssh hands the command to.
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
