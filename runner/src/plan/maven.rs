//! Maven-style jar names, `artifact-version[-classifier].jar`: what lets a staged
//! `fastjson-1.2.83.jar` replace a deployed `lib/fastjson-1.2.60.jar` instead of landing beside
//! it (two versions of one library on a classpath).

/// A jar name split into what identifies the artifact and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<'a> {
    pub artifact: &'a str,
    pub version: &'a str,
    pub classifier: Option<&'a str>,
}

/// Words that belong to a version (`1.0-SNAPSHOT`, `4.1.86.Final`, `2.0-rc-1`), not a
/// classifier.
const QUALIFIERS: &[&str] = &[
    "snapshot",
    "release",
    "final",
    "ga",
    "alpha",
    "beta",
    "rc",
    "cr",
    "m",
    "milestone",
    "sp",
];

fn is_qualifier(segment: &str) -> bool {
    let word = segment.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    QUALIFIERS.contains(&word.to_ascii_lowercase().as_str())
}

/// `name` split as Maven names jars, or `None` when it has no version (`app.jar`).
pub fn parse(name: &str) -> Option<Versioned<'_>> {
    let stem = name.strip_suffix(".jar")?;
    // The artifact ends where a `-` is followed by a digit.
    let at = stem
        .char_indices()
        .find(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)?;
    let (artifact, tail) = (&stem[..at], &stem[at + 1..]);
    if artifact.is_empty() {
        return None;
    }
    // The version runs until the first segment that starts with a letter and is no qualifier.
    let mut end = tail.len();
    let mut offset = 0;
    for (n, seg) in tail.split('-').enumerate() {
        if n > 0 && seg.starts_with(|c: char| c.is_ascii_alphabetic()) && !is_qualifier(seg) {
            end = offset - 1;
            break;
        }
        offset += seg.len() + 1;
    }
    let (version, classifier) = if end < tail.len() {
        (&tail[..end], Some(&tail[end + 1..]))
    } else {
        (tail, None)
    };
    Some(Versioned {
        artifact,
        version,
        classifier,
    })
}

/// Whether `a` and `b` are two versions of one artifact (same name and classifier).
pub fn same_artifact(a: &Versioned, b: &Versioned) -> bool {
    a.artifact == b.artifact && a.classifier == b.classifier && a.version != b.version
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(&str, &str, Option<&str>)> {
        parse(s).map(|v| (v.artifact, v.version, v.classifier))
    }

    #[test]
    fn names() {
        assert_eq!(p("fastjson-1.2.83.jar"), Some(("fastjson", "1.2.83", None)));
        assert_eq!(
            p("spring-boot-starter-web-2.7.18.jar"),
            Some(("spring-boot-starter-web", "2.7.18", None))
        );
        assert_eq!(
            p("app-1.0-SNAPSHOT.jar"),
            Some(("app", "1.0-SNAPSHOT", None))
        );
        assert_eq!(p("lib-2.0-rc-1.jar"), Some(("lib", "2.0-rc-1", None)));
        assert_eq!(
            p("netty-transport-native-epoll-4.1.86.Final-linux-x86_64.jar"),
            Some((
                "netty-transport-native-epoll",
                "4.1.86.Final",
                Some("linux-x86_64")
            ))
        );
        assert_eq!(
            p("guava-31.1-jre.jar"),
            Some(("guava", "31.1", Some("jre")))
        );
        assert_eq!(p("x-1.0-sources.jar"), Some(("x", "1.0", Some("sources"))));
        assert_eq!(p("app.jar"), None);
        assert_eq!(p("demo-greeting.jar"), None);
        assert_eq!(p("notes-1.txt"), None);
        assert_eq!(p("-1.0.jar"), None);
        let (a, b) = (parse("x-1.0.jar").unwrap(), parse("x-1.1.jar").unwrap());
        assert!(same_artifact(&a, &b));
        let c = parse("x-1.1-sources.jar").unwrap();
        assert!(
            !same_artifact(&a, &c),
            "another classifier is another artifact"
        );
    }
}
