//! `runner plugin new <name> --language rust|python|js|c`: a standalone plugin project that builds
//! against the WIT package this runner embeds, from the templates in `runner/templates/`.

use std::path::{Path, PathBuf};

use crate::cli::PluginLang;
use crate::error::{Error, ExitCode, Result};
use crate::plugin::wit::WIT_FILES;
use crate::report;

use super::Globals;
use super::plugin::{hook_named, wit_text};

/// A template file: where it goes in the project, its text, whether it is run.
type File = (&'static str, &'static str, bool);

const RUST: &[File] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/rust/Cargo.toml"),
        false,
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/rust/src/lib.rs"),
        false,
    ),
    (
        "build.sh",
        include_str!("../../templates/rust/build.sh"),
        true,
    ),
    (
        ".gitignore",
        include_str!("../../templates/rust/gitignore"),
        false,
    ),
];
const PYTHON: &[File] = &[
    (
        "app.py",
        include_str!("../../templates/python/app.py"),
        false,
    ),
    (
        "build.sh",
        include_str!("../../templates/python/build.sh"),
        true,
    ),
    (
        ".gitignore",
        include_str!("../../templates/python/gitignore"),
        false,
    ),
];
const JS: &[File] = &[
    (
        "plugin.js",
        include_str!("../../templates/js/plugin.js"),
        false,
    ),
    (
        "package.json",
        include_str!("../../templates/js/package.json"),
        false,
    ),
    (
        "build.sh",
        include_str!("../../templates/js/build.sh"),
        true,
    ),
    (
        ".gitignore",
        include_str!("../../templates/js/gitignore"),
        false,
    ),
];
const C: &[File] = &[
    (
        "plugin.c",
        include_str!("../../templates/c/plugin.c"),
        false,
    ),
    ("build.sh", include_str!("../../templates/c/build.sh"), true),
    (
        ".gitignore",
        include_str!("../../templates/c/gitignore"),
        false,
    ),
];
const README: &str = include_str!("../../templates/README.md");

/// What `runner plugin new` is asked for.
pub struct NewArgs<'a> {
    pub name: &'a str,
    pub lang: PluginLang,
    pub hooks: &'a [String],
    pub wit: Option<&'a str>,
    pub dir: &'a Path,
}

/// A plugin's name: what its dir, its .wasm and its package take (a Cargo package, an npm one).
fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub fn new(g: &Globals, a: &NewArgs) -> Result<ExitCode> {
    if !valid_name(a.name) {
        return Err(Error::Usage(crate::t!(
            "plugin-new-bad-name",
            name = a.name
        )));
    }
    let wit = a.wit.unwrap_or(WIT_FILES[0].0);
    let wit_file = wit_text(wit)?;
    let mut hooks = Vec::new();
    for h in a.hooks.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
        let hook = hook_named(h)?;
        if !hook.in_wit(wit) {
            return Err(Error::Usage(crate::t!(
                "plugin-new-hook-too-new",
                hook = h,
                since = hook.since(),
                wit = wit
            )));
        }
        if !hooks.contains(&hook.name()) {
            hooks.push(hook.name());
        }
    }
    if hooks.is_empty() {
        return Err(Error::Usage(crate::t!("plugin-new-no-hooks")));
    }
    let (files, lang, main) = match a.lang {
        PluginLang::Rust => (RUST, "Rust", "src/lib.rs"),
        PluginLang::Python => (PYTHON, "Python", "app.py"),
        PluginLang::Js => (JS, "JavaScript", "plugin.js"),
        PluginLang::C => (C, "C", "plugin.c"),
    };
    let dir = crate::fsutil::absolute(a.dir);
    let project = dir.join(a.name);
    let wasm = project.join(format!("{}.wasm", a.name));
    let v2 = wit >= "0.2.0";
    // The same in Rust, Python and JavaScript: `"a", "b"`.
    let hook_list = hooks
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let snippet = format!(
        // en: TOML, as runner.toml spells it
        "[[plugin]]\nname = \"{}\"\nwasm = \"{}\"\non_error = \"abort\"\n# allow = {{ exec = [], dirs = [], rw = [], http = [] }}",
        a.name,
        wasm.display()
    );
    let fill = |text: &str| {
        text.replace("@CRATE@", &a.name.replace('-', "_"))
            .replace("@NAME@", a.name)
            .replace("@WIT@", wit)
            .replace("@HOOKS@", &hook_list)
            .replace(
                "@CONCURRENT@",
                // en: Rust and JavaScript source
                if v2 { ", concurrent: false" } else { "" },
            )
            .replace(
                "@CONCURRENT_PY@",
                if v2 { ", concurrent=False" } else { "" },
            )
            .replace("@LANG@", lang)
            .replace("@FIRST_HOOK@", hooks[0])
            .replace("@MAIN@", main)
            .replace("@SNIPPET@", &snippet)
    };
    let mut written: Vec<(PathBuf, String, bool)> = files
        .iter()
        .map(|(rel, text, run)| (PathBuf::from(rel), fill(text), *run))
        .collect();
    written.push(("wit/plugin.wit".into(), wit_file.to_string(), false));
    written.push(("README.md".into(), fill(README), false));
    create(&dir, &project, &written)?;
    let build = format!("cd {} && ./build.sh", project.display());
    // en: a command line
    let call = format!("runner plugin call {} {}", wasm.display(), hooks[0]);
    let names: Vec<String> = written
        .iter()
        .map(|(p, _, _)| p.display().to_string())
        .collect();
    if g.ui.json {
        report::print_json(
            "new",
            &serde_json::json!({
                "dir": project,
                "lang": lang.to_lowercase(),
                "wit": wit,
                "hooks": hooks,
                "files": names,
                "build": build,
                "wasm": wasm,
                "call": call,
                "snippet": snippet,
            }),
        );
        return Ok(ExitCode::DONE);
    }
    println!(
        "{}",
        crate::t!(
            "plugin-new-created",
            dir = project.display().to_string(),
            lang = lang,
            wit = wit
        )
    );
    println!("  {} {}", crate::t!("plugin-new-files"), names.join(", "));
    println!("  {}  {build}", crate::t!("plugin-new-build"));
    println!("  {}  {call}", crate::t!("plugin-new-try"));
    println!("  {}", crate::t!("plugin-new-config"));
    for line in snippet.lines() {
        println!("    {line}");
    }
    Ok(ExitCode::DONE)
}

/// Writes the project beside its place and renames it in: a project is there whole or not at
/// all, and a dir already there (not empty) is never written into.
fn create(parent: &Path, project: &Path, files: &[(PathBuf, String, bool)]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::read_dir(project).is_ok_and(|mut d| d.next().is_some())
        || std::fs::symlink_metadata(project).is_ok_and(|m| !m.is_dir())
    {
        return Err(Error::Usage(crate::t!(
            "plugin-new-exists",
            dir = project.display().to_string()
        )));
    }
    std::fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
    let name = project.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent.join(format!(".{name}.runner-new-{}", std::process::id()));
    let write = || -> Result<()> {
        for (rel, text, run) in files {
            let path = tmp.join(rel);
            let dir = path.parent().expect("a file in a dir");
            std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
            std::fs::write(&path, text).map_err(Error::io("write", &path))?;
            if *run {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(Error::io("chmod", &path))?;
            }
        }
        // An empty dir of that name is replaced; one that filled up meanwhile is not.
        std::fs::rename(&tmp, project).map_err(Error::io("rename", project))
    };
    let res = write();
    if res.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_cargo_npm_and_a_dir_take() {
        for ok in ["gate", "my-gate", "g2", "a"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "x-",
            "My",
            "a_b",
            "../x",
            "a/b",
            "2x",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    /// The plugin code of each template, filled in, is at most 20 lines that are neither blank
    /// nor comments (the bound, which keeps the templates a starting point, not a
    /// framework).
    #[test]
    fn each_template_is_twenty_lines_of_code_or_fewer() {
        for (files, main, comment) in [
            (RUST, "src/lib.rs", "//"),
            (PYTHON, "app.py", "#"),
            (JS, "plugin.js", "//"),
            (C, "plugin.c", "//"),
        ] {
            let text = files.iter().find(|f| f.0 == main).unwrap().1;
            let mut in_doc = false;
            let code = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    // A Python docstring counts as a comment.
                    if in_doc {
                        in_doc = !l.ends_with("\"\"\"");
                        return false;
                    }
                    if l.starts_with("\"\"\"") {
                        in_doc = !(l.len() >= 6 && l.ends_with("\"\"\""));
                        return false;
                    }
                    !in_doc && !l.is_empty() && !l.starts_with(comment)
                })
                .count();
            assert!(code <= 20, "{main}: {code} lines of code");
        }
    }
}
