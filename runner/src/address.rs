//! Where things are: the ssh destination of an app's host or an `ssh://` target
//! ([`SshTarget`], `[user@]host[:port]`) and a `[[sync]]` target URL ([`Url`]). Parsed once,
//! when the config is read; the sync and the fleet take them as they are.

use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};

/// Why an address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{}", crate::t!("address-no-scheme"))]
    NoScheme,
    #[error("{}", crate::t!("address-relative-file"))]
    RelativeFile,
    #[error("{}", crate::t!("address-no-path"))]
    NoPath,
    #[error("{}", crate::t!("address-no-host-or-path"))]
    NoHostOrPath,
    #[error("{}", crate::t!("address-bad-port", port = .0))]
    BadPort(String),
    #[error("{}", crate::t!("address-unknown-scheme", scheme = .0))]
    UnknownScheme(String),
    #[error("{}", crate::t!("address-empty-user"))]
    EmptyUser,
    #[error("{}", crate::t!("address-bad-host"))]
    BadHost,
}

/// Where ssh connects: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// An app's host as the config lists it.
    pub fn parse(s: &str) -> Result<SshTarget, AddressError> {
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(AddressError::EmptyUser),
            None => (None, s),
        };
        let (host, port) = split_port(rest)?;
        if host.is_empty() || host.contains(['/', ' ']) || host.starts_with('-') {
            return Err(AddressError::BadHost);
        }
        Ok(SshTarget {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// `user@host` or `host`, as ssh takes it (the port goes in `-p`).
    pub fn destination(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Hosts as the config wrote them.
pub fn names(hosts: &[SshTarget]) -> Vec<String> {
    hosts.iter().map(|h| h.to_string()).collect()
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.destination())?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl Serialize for SshTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn split_port(s: &str) -> Result<(&str, Option<u16>), AddressError> {
    match s.rsplit_once(':') {
        Some((h, p)) => Ok((
            h,
            Some(p.parse().map_err(|_| AddressError::BadPort(p.into()))?),
        )),
        None => Ok((s, None)),
    }
}

/// A `[[sync]]` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    /// A local dir, served by a local agent.
    File(PathBuf),
    /// A dir on a host, served by `runner agent` over ssh.
    Ssh { to: SshTarget, path: String },
    /// A module of an rsync daemon (the system `rsync` pushes to it).
    Rsync(RsyncModule),
}

/// `rsync://[user@]host[:port]/module/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsyncModule {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub module_path: String,
}

impl RsyncModule {
    /// The destination as rsync takes it, with a trailing `/`.
    pub fn dest(&self) -> String {
        format!(
            "rsync://{}{}{}/{}/",
            self.user
                .as_ref()
                .map(|u| format!("{u}@"))
                .unwrap_or_default(),
            self.host,
            self.port.map(|p| format!(":{p}")).unwrap_or_default(),
            self.module_path
        )
    }
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, AddressError> {
        let (scheme, rest) = s.split_once("://").ok_or(AddressError::NoScheme)?;
        if scheme == "file" {
            if !rest.starts_with('/') {
                return Err(AddressError::RelativeFile);
            }
            return Ok(Url::File(PathBuf::from(rest)));
        }
        let (authority, path) = rest.split_at(rest.find('/').ok_or(AddressError::NoPath)?);
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        let (host, port) = split_port(hostport)?;
        if host.is_empty() || path.len() < 2 {
            return Err(AddressError::NoHostOrPath);
        }
        let host = host.to_string();
        match scheme {
            "ssh" => Ok(Url::Ssh {
                to: SshTarget { user, host, port },
                path: path.to_string(),
            }),
            "rsync" => Ok(Url::Rsync(RsyncModule {
                user,
                host,
                port,
                module_path: path[1..].to_string(),
            })),
            other => Err(AddressError::UnknownScheme(other.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Url::parse("file:///srv/x").unwrap(),
            Url::File("/srv/x".into())
        );
        assert_eq!(
            Url::parse("ssh://ops@app1:2222/home/ops/update/pdms").unwrap(),
            Url::Ssh {
                to: SshTarget {
                    user: Some("ops".into()),
                    host: "app1".into(),
                    port: Some(2222),
                },
                path: "/home/ops/update/pdms".into(),
            }
        );
        let Url::Rsync(m) = Url::parse("rsync://rsync_backup@h/pdms").unwrap() else {
            panic!("an rsync URL");
        };
        assert_eq!(m.module_path, "pdms");
        assert_eq!(m.dest(), "rsync://rsync_backup@h/pdms/");
        assert_eq!(Url::parse("ssh://host"), Err(AddressError::NoPath));
        assert_eq!(Url::parse("file://rel"), Err(AddressError::RelativeFile));
        assert_eq!(
            Url::parse("ssh://h:x/p"),
            Err(AddressError::BadPort("x".into()))
        );
        assert!(
            matches!(Url::parse("ftp://h/p"), Err(AddressError::UnknownScheme(s)) if s == "ftp")
        );
    }

    #[test]
    fn hosts_round_trip_as_written() {
        for s in ["app1", "ops@app1", "ops@127.0.0.1:2222", "app1:22"] {
            assert_eq!(SshTarget::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(SshTarget::parse("@h"), Err(AddressError::EmptyUser));
        assert_eq!(SshTarget::parse("-oProxy=x"), Err(AddressError::BadHost));
        assert_eq!(SshTarget::parse("a b"), Err(AddressError::BadHost));
        assert_eq!(
            SshTarget::parse("h:99999"),
            Err(AddressError::BadPort("99999".into()))
        );
    }
}
