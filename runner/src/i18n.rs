//! What a person reads, in their language: English or Simplified Chinese, from Fluent message
//! catalogues (`runner/i18n/<lang>/runner.ftl`, built into the binary). The language is
//! `--lang`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: `zh*` is Chinese), else English.
//! JSON field names and values, and the protocol, stay English.
//!
//! Fluent rather than a key→string table: a message is a whole sentence with named arguments,
//! which a translator may reorder (Chinese puts them elsewhere), and English plurals are
//! selectors in the catalogue, not `if n == 1` in the code.

use std::borrow::Cow;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The languages runner speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// The catalogue of a language, one file per part of runner (each id in exactly one).
macro_rules! catalogue {
    ($lang:literal) => {
        &[
            include_str!(concat!("../i18n/", $lang, "/runner.ftl")),
            include_str!(concat!("../i18n/", $lang, "/errors.ftl")),
            include_str!(concat!("../i18n/", $lang, "/config.ftl")),
            include_str!(concat!("../i18n/", $lang, "/release.ftl")),
            include_str!(concat!("../i18n/", $lang, "/plugin.ftl")),
            include_str!(concat!("../i18n/", $lang, "/fleet.ftl")),
            include_str!(concat!("../i18n/", $lang, "/sync.ftl")),
        ]
    };
}

pub const EN: &[&str] = catalogue!("en");
pub const ZH_CN: &[&str] = catalogue!("zh-CN");
/// The Chinese of `--help`: the English is the doc comments of `cli.rs` (which clap, the man
/// page and the completions read), keyed here by command path and argument id.
pub const HELP_ZH_CN: &str = include_str!("../i18n/zh-CN/help.ftl");

static LANG: OnceLock<Lang> = OnceLock::new();
thread_local! {
    /// Set while [`english`] runs: what is recorded (history, journal) stays English.
    static FORCED: Cell<Option<Lang>> = const { Cell::new(None) };
}
static BUNDLES: OnceLock<(FluentBundle<FluentResource>, FluentBundle<FluentResource>)> =
    OnceLock::new();

impl Lang {
    /// `zh-CN`, `zh_CN.UTF-8`, `zh` → Chinese; anything else English.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            None
        } else if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else {
            Some(Lang::En)
        }
    }

    /// As `--lang` takes it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// From the locale, as setlocale would pick the messages' language.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .and_then(|v| Lang::parse(&v))
            .unwrap_or(Lang::En)
    }
}

/// Chooses the language for the rest of the process (the first call wins).
pub fn set(lang: Lang) {
    let _ = LANG.set(lang);
}

pub fn lang() -> Lang {
    FORCED
        .get()
        .unwrap_or_else(|| *LANG.get_or_init(Lang::from_env))
}

/// `f` with every message in English, whatever the language: for what is recorded rather
/// than shown (a history's step details and errors), which a later reader of any language and
/// `--json` get alike.
pub fn english<T>(f: impl FnOnce() -> T) -> T {
    /// Puts the language back however `f` ends (a panic included).
    struct Restore(Option<Lang>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.set(self.0);
        }
    }
    let _restore = Restore(FORCED.replace(Some(Lang::En)));
    f()
}

fn bundle(lang: &str, files: &[&'static str]) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language id");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they would land in files and terminals.
    b.set_use_isolating(false);
    for text in files {
        let res = FluentResource::try_new(text.to_string()).expect("the catalogue parses");
        b.add_resource(res).expect("no message is defined twice");
    }
    b
}

fn bundles() -> &'static (FluentBundle<FluentResource>, FluentBundle<FluentResource>) {
    BUNDLES.get_or_init(|| (bundle("en", EN), bundle("zh-CN", ZH_CN)))
}

/// The Chinese help texts (see [`HELP_ZH_CN`]).
pub fn help_zh(id: &str) -> Option<String> {
    static HELP: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let b = HELP.get_or_init(|| bundle("zh-CN", &[HELP_ZH_CN]));
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, None, &mut errors).into_owned())
}

/// Message `id` with `args`, in the chosen language (English when the Chinese catalogue lacks
/// it; the id itself when neither has it, which a test rules out).
pub fn message(id: &str, args: &[(&str, FluentValue)]) -> String {
    let (en, zh) = bundles();
    let first = match lang() {
        Lang::ZhCn => zh,
        Lang::En => en,
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, v.clone());
    }
    for b in [first, en] {
        if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return b
                .format_pattern(pattern, Some(&fargs), &mut errors)
                .into_owned();
        }
    }
    id.to_string()
}

/// A value a message takes: text, a number (which plurals select on), a path (shown as
/// text). References too, so that `t!` takes an error's fields as they are.
pub trait Arg {
    fn arg(self) -> FluentValue<'static>;
}

macro_rules! text_args {
    ($($t:ty => $f:expr),* $(,)?) => {$(
        // `&Box<Text>`: how thiserror hands over a boxed field.
        #[allow(clippy::borrowed_box)]
        impl Arg for $t {
            fn arg(self) -> FluentValue<'static> {
                #[allow(clippy::redundant_closure_call)]
                FluentValue::String(Cow::Owned(($f)(self)))
            }
        }
    )*};
}

text_args! {
    &str => |s: &str| s.to_string(),
    &&str => |s: &&str| s.to_string(),
    &&&str => |s: &&&str| s.to_string(),
    String => |s| s,
    &String => |s: &String| s.clone(),
    &&String => |s: &&String| s.to_string(),
    &Path => |p: &Path| p.display().to_string(),
    &PathBuf => |p: &PathBuf| p.display().to_string(),
    &&Path => |p: &&Path| p.display().to_string(),
    &&PathBuf => |p: &&PathBuf| p.display().to_string(),
    PathBuf => |p: PathBuf| p.display().to_string(),
    Cow<'_, str> => |s: Cow<'_, str>| s.into_owned(),
    Text => |t: Text| t.to_string(),
    &Text => |t: &Text| t.to_string(),
    &Box<Text> => |t: &Box<Text>| t.to_string(),
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn arg(self) -> FluentValue<'static> {
                FluentValue::from(self)
            }
        }
        impl Arg for &$t {
            fn arg(self) -> FluentValue<'static> {
                FluentValue::from(*self)
            }
        }
    )*};
}

number_args!(u8, u16, u32, u64, usize, i32, i64, f64);

/// `t!(<id>)` or `t!(<id>, name = value, …)`: a message of the catalogue, in the language
/// chosen (see [`Arg`] for the values).
#[macro_export]
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::message($id, &[])
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::message($id, &[$((stringify!($k), $crate::i18n::Arg::arg($v))),+])
    };
}

/// A message not yet put into words: shown in the chosen language, recorded in English
/// (`text!` builds one as `t!` does; [`Text::new`] from any closure of `t!`s).
#[derive(Clone)]
pub struct Text(std::sync::Arc<dyn Fn() -> String + Send + Sync>);

impl Text {
    pub fn new(f: impl Fn() -> String + Send + Sync + 'static) -> Text {
        Text(std::sync::Arc::new(f))
    }

    /// In English, for a record.
    pub fn english(&self) -> String {
        english(|| (self.0)())
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}

/// A text already in words (a test's, or one that never changes with the language).
impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(move || s.clone())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        String::from(s).into()
    }
}

/// In a JSON document: English.
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.english())
    }
}

/// Read back from a document: the text as it was written.
impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Text::new(move || s.clone()))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.english())
    }
}

/// A message's argument as a [`Text`] keeps it (a `FluentValue` may not cross threads).
#[derive(Clone)]
pub enum Kept {
    Text(String),
    Number(f64),
}

impl Kept {
    pub fn all(args: Vec<(&'static str, FluentValue<'static>)>) -> Vec<(&'static str, Kept)> {
        args.into_iter()
            .map(|(k, v)| {
                let kept = match v {
                    FluentValue::Number(n) => Kept::Number(n.value),
                    FluentValue::String(s) => Kept::Text(s.into_owned()),
                    _ => Kept::Text(String::new()),
                };
                (k, kept)
            })
            .collect()
    }

    pub fn values(args: &[(&'static str, Kept)]) -> Vec<(&'static str, FluentValue<'static>)> {
        args.iter()
            .map(|(k, v)| match v {
                Kept::Text(s) => (*k, FluentValue::from(s.clone())),
                Kept::Number(n) => (*k, FluentValue::from(*n)),
            })
            .collect()
    }
}

/// `text!(<id>, name = value, …)`: a [`Text`] of one message.
#[macro_export]
macro_rules! text {
    ($id:literal $(, $k:ident = $v:expr)* $(,)?) => {{
        let args = $crate::i18n::Kept::all(vec![$((stringify!($k), $crate::i18n::Arg::arg($v))),*]);
        $crate::i18n::Text::new(move || $crate::i18n::message($id, &$crate::i18n::Kept::values(&args)))
    }};
}

/// The message ids the catalogue files define.
pub fn ids(files: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| !l.starts_with([' ', '#', '\t', '*', '[', '}']) && l.contains(" ="))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_in_both_catalogues() {
        let (en, zh) = (ids(EN), ids(ZH_CN));
        let missing_zh: Vec<&String> = en.iter().filter(|i| !zh.contains(i)).collect();
        let missing_en: Vec<&String> = zh.iter().filter(|i| !en.contains(i)).collect();
        assert!(missing_zh.is_empty(), "not in zh-CN: {missing_zh:?}");
        assert!(missing_en.is_empty(), "not in en: {missing_en:?}");
        assert!(en.len() > 20);
    }

    /// Every `t!` in the sources names a message of the English catalogue.
    #[test]
    fn every_id_the_code_uses_is_defined() {
        let en = ids(EN);
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in walkdir::WalkDir::new(&src)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if entry.path().extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let mut rest = text.as_str();
            while let Some(i) = rest.find("t!(\"") {
                // `format!(` ends in `t!(` too: only a `t!` that starts a word.
                let word = rest[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let after = &rest[i + 4..];
                rest = after;
                let id = after.split('"').next().unwrap();
                if !word {
                    continue;
                }
                assert!(
                    en.iter().any(|e| e == id),
                    "{}: `{id}` is not in i18n/en/runner.ftl",
                    entry.path().display()
                );
            }
        }
    }

    /// The string literals of a Rust source, outside comments and before its tests: the line
    /// each starts on, its text, and the code just before it (to tell whose argument it is).
    fn literals(src: &str) -> Vec<(usize, String, String)> {
        let tests = [
            "#[cfg(test)]\nmod tests",
            "#[cfg(test)]\npub(crate) mod tests",
        ];
        let src = match tests.iter().filter_map(|t| src.find(t)).min() {
            Some(i) => &src[..i],
            None => src,
        };
        let b = src.as_bytes();
        let (mut i, mut line, mut out) = (0, 1, Vec::new());
        while i < b.len() {
            match b[i] {
                b'\n' => line += 1,
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                // A char literal ('"', '\'', 'x'), not a lifetime.
                b'\'' if b.get(i + 1) == Some(&b'\\') => i += 3,
                b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
                b'"' => {
                    let (start, at) = (line, i);
                    let mut text = String::new();
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\n' {
                            line += 1;
                        }
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        text.push(b[i] as char);
                        i += 1;
                    }
                    let before = &src[at.saturating_sub(160)..at];
                    let before = before.rsplit([';', '{', '}']).next().unwrap_or("");
                    out.push((start, text, before.to_string()));
                }
                _ => {}
            }
            i += 1;
        }
        out
    }

    /// Does this literal read like words for a person (two words in a row, placeholders aside)?
    fn is_prose(text: &str) -> bool {
        let mut plain = String::new();
        let mut depth = 0;
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ if depth == 0 => plain.push(c),
                _ => {}
            }
        }
        let words: Vec<&str> = plain
            .split_whitespace()
            .map(|w| w.trim_matches([',', ':', ';', '(', ')']))
            .filter(|w| !w.is_empty())
            .collect();
        // A word: two letters in a row at least (not `%Y-%m-%d`).
        let word = |w: &&str| {
            w.as_bytes()
                .windows(2)
                .any(|p| p.iter().all(u8::is_ascii_alphabetic))
        };
        words.windows(2).any(|w| w.iter().all(word))
    }

    /// Files whose prose is not for a person's eyes, and why.
    const NOT_FOR_PEOPLE: &[(&str, &str)] = &[
        ("i18n.rs", "the catalogue machinery"),
        (
            "cli.rs",
            "the English help, which help.ftl translates (see help_is_all_translated)",
        ),
    ];

    /// Files not through the catalogue yet.
    const NOT_YET: &[&str] = &[];

    /// No sentence a person reads is formatted outside the catalogue: every literal in
    /// `runner/src` with words in it is a message id, is in a file of [`NOT_FOR_PEOPLE`], is an
    /// argument of a developer's check (`expect`, `debug!`, `unreachable!`), or carries an
    /// `// en: <why>` comment on its line or the line above.
    #[test]
    fn every_sentence_is_in_the_catalogue() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for entry in walkdir::WalkDir::new(&src)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if NOT_FOR_PEOPLE.iter().any(|(f, _)| *f == rel) || NOT_YET.contains(&rel.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let marked = |line: usize| {
                lines[line - 1].contains("// en: ")
                    || (line >= 2 && lines[line - 2].trim_start().starts_with("// en: "))
            };
            for (line, lit, before) in literals(&text) {
                let developer = ["expect(", "debug!(", "trace!(", "unreachable!(", "panic!("]
                    .iter()
                    .any(|m| before.contains(m));
                if is_prose(&lit) && !developer && !marked(line) {
                    found.push(format!("{rel}:{line}: \"{lit}\""));
                }
            }
        }
        assert!(
            found.is_empty(),
            "{} sentences outside the catalogue (a t! message, or `// en: <why>`):\n{}",
            found.len(),
            found.join("\n")
        );
    }

    #[test]
    fn prose_is_told_from_code() {
        assert!(is_prose("{app}: no such file"));
        assert!(is_prose("stopped by {}"));
        assert!(!is_prose("{}/{}.jar"));
        assert!(!is_prose("--password-file={}"));
        assert!(!is_prose("release"));
        assert!(!is_prose("Option::is_none"));
        assert!(!is_prose("%Y-%m-%d %H:%M %:z"));
        let lits = literals("let c = '\"'; f(\"a b\"); // \"c d\"\nlet x: &'a str = \"e\\\"f\";");
        let texts: Vec<&str> = lits.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(texts, ["a b", "e\"f"]);
    }

    #[test]
    fn locales_pick_the_language() {
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse(""), None);
    }
}
