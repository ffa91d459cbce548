//! What a person reads, in their language: English or Simplified Chinese, from Fluent message
//! catalogues (`runner/i18n/<lang>/runner.ftl`, built into the binary). The language is
//! `--lang`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: `zh*` is Chinese), else English.
//! JSON field names and values, and the protocol, stay English.
//!
//! Fluent rather than a key→string table: a message is a whole sentence with named arguments,
//! which a translator may reorder (Chinese puts them elsewhere), and English plurals are
//! selectors in the catalogue, not `if n == 1` in the code.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The languages runner speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

pub const EN: &str = include_str!("../i18n/en/runner.ftl");
pub const ZH_CN: &str = include_str!("../i18n/zh-CN/runner.ftl");

static LANG: OnceLock<Lang> = OnceLock::new();
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
    *LANG.get_or_init(Lang::from_env)
}

fn bundle(lang: &str, text: &'static str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language id");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they would land in files and terminals.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(text.to_string()).expect("the catalogue parses");
    b.add_resource(res).expect("no message is defined twice");
    b
}

fn bundles() -> &'static (FluentBundle<FluentResource>, FluentBundle<FluentResource>) {
    BUNDLES.get_or_init(|| (bundle("en", EN), bundle("zh-CN", ZH_CN)))
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

/// `t!(<id>)` or `t!(<id>, name = value, …)`: a message of the catalogue.
#[macro_export]
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::message($id, &[])
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::message($id, &[$((stringify!($k), ::fluent_bundle::FluentValue::from($v))),+])
    };
}

/// The message ids a catalogue defines.
pub fn ids(catalogue: &str) -> Vec<String> {
    catalogue
        .lines()
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

    #[test]
    fn locales_pick_the_language() {
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse(""), None);
    }
}
