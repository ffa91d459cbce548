//! End-to-end tests: the real `runner` binary against a real JVM app (built with javac/jar),
//! real files and real processes. One test binary; `util` hides the plumbing.

mod crash;
mod fleet;
mod guardrails;
mod json;
mod nginx;
mod operator;
mod plugins;
mod release;
mod sync;
mod util;
mod watch;
