//! One inotify instance for the whole service: one notify watcher (one thread, one kernel
//! queue) watches every source tree, and hands each event to the loops whose tree it is in.
//! Rows that share a source, or whose source lies inside another's, share its watches; a tree
//! is watched by its real path, and its events reach each loop under the path that loop was
//! given. (A watcher per row cost a thread and an inotify instance each, and the kernel allows
//! 128 instances per user by default.)

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use notify::{Event, RecursiveMode, Watcher};

type Tx = mpsc::Sender<notify::Result<Event>>;

/// A loop's tree: the path it was given, the real path it is watched by, and where its
/// events go.
struct Sub {
    given: PathBuf,
    real: PathBuf,
    tx: Tx,
}

#[derive(Default)]
pub(super) struct Hub {
    watcher: Mutex<Watching>,
    subs: Arc<Mutex<Vec<Sub>>>,
}

/// The watcher, made by the first subscriber, and the real paths it watches recursively.
#[derive(Default)]
struct Watching {
    watcher: Option<notify::RecommendedWatcher>,
    trees: Vec<PathBuf>,
}

impl Hub {
    /// Sends the events under `root` (and those about no path: an overflow) to `tx` from now
    /// on, watching `root` unless a tree it lies in is watched already.
    pub(super) fn subscribe(&self, root: &Path, tx: Tx) -> notify::Result<()> {
        let mut w = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        let real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !w.trees.iter().any(|t| real.starts_with(t)) {
            let watcher = match &mut w.watcher {
                Some(watcher) => watcher,
                none => {
                    let subs = self.subs.clone();
                    none.insert(notify::recommended_watcher(move |res| {
                        dispatch(&subs.lock().unwrap_or_else(|e| e.into_inner()), res)
                    })?)
                }
            };
            watcher.watch(&real, RecursiveMode::Recursive)?;
            w.trees.push(real.clone());
        }
        self.subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Sub {
                given: root.to_path_buf(),
                real,
                tx,
            });
        Ok(())
    }
}

/// Hands an event to every loop whose tree holds one of its paths, its paths under the path
/// that loop was given; an event or error about no path goes to every loop.
fn dispatch(subs: &[Sub], res: notify::Result<Event>) {
    match res {
        Ok(ev) => {
            for s in subs {
                if ev.paths.is_empty() {
                    let _ = s.tx.send(Ok(ev.clone()));
                    continue;
                }
                let paths: Vec<PathBuf> = ev
                    .paths
                    .iter()
                    .filter_map(|p| p.strip_prefix(&s.real).ok())
                    .map(|rel| s.given.join(rel))
                    .collect();
                if !paths.is_empty() {
                    let mut mine = ev.clone();
                    mine.paths = paths;
                    let _ = s.tx.send(Ok(mine));
                }
            }
        }
        Err(e) => {
            let message = e.to_string();
            for s in subs
                .iter()
                .filter(|s| e.paths.is_empty() || e.paths.iter().any(|p| p.starts_with(&s.real)))
            {
                let _ = s.tx.send(Err(notify::Error::generic(&message)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::EventKind;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    fn sub(given: &str, real: &str) -> (Sub, mpsc::Receiver<notify::Result<Event>>) {
        let (tx, rx) = mpsc::channel();
        let s = Sub {
            given: given.into(),
            real: real.into(),
            tx,
        };
        (s, rx)
    }

    fn paths(rx: &mpsc::Receiver<notify::Result<Event>>) -> Vec<Vec<PathBuf>> {
        rx.try_iter().map(|e| e.unwrap().paths).collect()
    }

    #[test]
    fn each_loop_gets_the_events_of_its_tree_under_its_own_path() {
        let (a, ra) = sub("/srv/link/a", "/data/a");
        let (b, rb) = sub("/srv/b", "/data/b");
        let (inner, ri) = sub("/srv/b/lib", "/data/b/lib");
        let subs = [a, b, inner];
        let ev = |kind, p: &[&str]| {
            let mut e = Event::new(kind);
            e.paths = p.iter().map(PathBuf::from).collect();
            Ok(e)
        };
        dispatch(
            &subs,
            ev(EventKind::Create(CreateKind::File), &["/data/a/x.jar"]),
        );
        dispatch(
            &subs,
            ev(EventKind::Create(CreateKind::File), &["/data/b/lib/y.jar"]),
        );
        // A move from one tree to another: each side sees its own path.
        dispatch(
            &subs,
            ev(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/data/a/m.jar", "/data/b/m.jar"],
            ),
        );
        dispatch(&subs, ev(EventKind::Other, &[]));
        dispatch(
            &subs,
            ev(EventKind::Create(CreateKind::File), &["/data/abc/z.jar"]),
        );
        assert_eq!(
            paths(&ra),
            [
                vec![PathBuf::from("/srv/link/a/x.jar")],
                vec![PathBuf::from("/srv/link/a/m.jar")],
                vec![]
            ]
        );
        assert_eq!(
            paths(&rb),
            [
                vec![PathBuf::from("/srv/b/lib/y.jar")],
                vec![PathBuf::from("/srv/b/m.jar")],
                vec![]
            ]
        );
        assert_eq!(
            paths(&ri),
            [vec![PathBuf::from("/srv/b/lib/y.jar")], vec![]]
        );
        dispatch(&subs, Err(notify::Error::generic("queue overflow")));
        for rx in [&ra, &rb, &ri] {
            assert!(matches!(rx.try_recv(), Ok(Err(_))));
        }
    }
}
