//! The upstream file as text: finds `server <addr>` directives of `upstream` blocks and adds or
//! removes their `down` flag, leaving every other byte (comments, spacing, line endings) as it was.
//!
//! The lexer follows nginx's own rules closely enough for upstream files: tokens are separated by
//! whitespace, `;`, `{` and `}`; `#` at the start of a token runs to the end of the line; quotes
//! and backslashes escape. It does not validate the file: `nginx -t` does that.

/// What marking a batch's servers down would do.
#[derive(Debug, PartialEq, Eq)]
pub enum Drain {
    /// The new file text (the same text when nothing was marked). `marked`: the servers given
    /// `down`; `blocks`: the upstreams they were marked down in; `lone`: (server, upstream) of
    /// each server left up because it is the only server up in that upstream (no batch size
    /// would keep one up there, so it is not drained: requests during its restart may fail);
    /// `already`: servers already down everywhere.
    Marked {
        text: String,
        marked: Vec<String>,
        blocks: Vec<String>,
        lone: Vec<(String, String)>,
        already: Vec<String>,
    },
    /// The batch holds every server up in `block`, which has `up` of them (more than one):
    /// draining them all would leave it no server; a batch of `up - 1` would not.
    WholeUpstream { block: String, up: usize },
    /// No `server` line for this address in any upstream of the file.
    NotFound(String),
}

/// What bringing our server back up would do.
#[derive(Debug, PartialEq, Eq)]
pub enum Undrain {
    /// The new file text; `blocks` names the upstreams it was brought back in.
    Restored { text: String, blocks: Vec<String> },
    /// No `server` line for our address carries `down`.
    AlreadyUp,
    /// No `server` line for our address in any upstream of the file.
    NotFound,
}

/// Adds `down` to every `server` line of the given addresses, unless that would leave an upstream
/// with no server up.
pub fn mark_down(text: &str, addrs: &[&str]) -> Drain {
    let servers = servers(text);
    if let Some(missing) = addrs
        .iter()
        .find(|a| !servers.iter().any(|s| s.addr == **a))
    {
        return Drain::NotFound(missing.to_string());
    }
    let ours = |s: &Server| addrs.contains(&s.addr.as_str());
    let up_in = |block: usize| {
        servers
            .iter()
            .filter(move |o| o.block == block && !o.is_down())
    };
    // A server that is the only one up in an upstream stays up, in every upstream.
    let mut lone: Vec<(String, String)> = Vec::new();
    for s in servers.iter().filter(|s| ours(s) && !s.is_down()) {
        if up_in(s.block).count() == 1 && !lone.iter().any(|(a, _)| *a == s.addr) {
            lone.push((s.addr.clone(), s.block_name.clone()));
        }
    }
    let to_mark: Vec<&Server> = servers
        .iter()
        .filter(|s| ours(s) && !s.is_down() && !lone.iter().any(|(a, _)| *a == s.addr))
        .collect();
    for s in &to_mark {
        if up_in(s.block).all(|o| to_mark.iter().any(|m| m.addr == o.addr)) {
            return Drain::WholeUpstream {
                block: s.block_name.clone(),
                up: up_in(s.block).count(),
            };
        }
    }
    let mut marked: Vec<String> = Vec::new();
    for s in &to_mark {
        if !marked.contains(&s.addr) {
            marked.push(s.addr.clone());
        }
    }
    let already = addrs
        .iter()
        .filter(|a| !marked.iter().any(|m| m == *a) && !lone.iter().any(|(l, _)| l == *a))
        .map(|a| a.to_string())
        .collect();
    let edits = to_mark.iter().map(|s| (s.end, s.end, " down")).collect();
    Drain::Marked {
        text: apply(text, edits),
        marked,
        blocks: block_names(&to_mark),
        lone,
        already,
    }
}

/// Removes `down` from every `server <addr>` line.
pub fn mark_up(text: &str, addr: &str) -> Undrain {
    let servers = servers(text);
    let ours: Vec<&Server> = servers.iter().filter(|s| s.addr == addr).collect();
    if ours.is_empty() {
        return Undrain::NotFound;
    }
    let down: Vec<&Server> = ours.into_iter().filter(|s| s.is_down()).collect();
    if down.is_empty() {
        return Undrain::AlreadyUp;
    }
    let mut edits = Vec::new();
    for s in &down {
        for (i, p) in s.params.iter().enumerate() {
            if p.text != "down" {
                continue;
            }
            let prev_end = if i == 0 {
                s.addr_end
            } else {
                s.params[i - 1].end
            };
            let gap = &text[prev_end..p.start];
            // `weight=2 down;` loses " down"; a `down` that opens a line keeps the line's layout.
            if gap.bytes().all(|b| b == b' ' || b == b'\t') {
                edits.push((prev_end, p.end, ""));
            } else {
                let after = text[p.end..]
                    .bytes()
                    .take_while(|&b| b == b' ' || b == b'\t')
                    .count();
                edits.push((p.start, p.end + after, ""));
            }
        }
    }
    Undrain::Restored {
        text: apply(text, edits),
        blocks: block_names(&down),
    }
}

/// A `server` directive of an upstream.
#[derive(Debug)]
struct Server {
    /// Which block it is in: the nth `{` of the file, or `usize::MAX` outside any block.
    block: usize,
    block_name: String,
    addr: String,
    addr_end: usize,
    params: Vec<Token>,
    /// Where its last token ends: ` down` goes here, before any space or comment ahead of `;`.
    end: usize,
}

impl Server {
    fn is_down(&self) -> bool {
        self.params.iter().any(|p| p.text == "down")
    }
}

#[derive(Debug, Clone)]
struct Token {
    start: usize,
    end: usize,
    /// Unquoted, unescaped.
    text: String,
}

struct Block {
    id: usize,
    upstream: Option<String>,
}

/// Every `server ...;` directive directly inside an `upstream` block, or outside any block (a file
/// included from inside an `upstream`, holding only its `server` lines).
fn servers(text: &str) -> Vec<Server> {
    let b = text.as_bytes();
    let mut servers = Vec::new();
    let mut stack: Vec<Block> = Vec::new();
    let mut blocks_opened = 0;
    let mut words: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                i += 1;
                let directive = std::mem::take(&mut words);
                let (block, block_name) = match stack.last() {
                    None => (usize::MAX, "(top level)".to_string()),
                    Some(Block {
                        id,
                        upstream: Some(name),
                    }) => (*id, name.clone()),
                    Some(_) => continue,
                };
                if let [first, addr, params @ ..] = directive.as_slice()
                    && first.text == "server"
                {
                    servers.push(Server {
                        block,
                        block_name,
                        addr: addr.text.clone(),
                        addr_end: addr.end,
                        params: params.to_vec(),
                        end: params.last().unwrap_or(addr).end,
                    });
                }
            }
            b'{' => {
                i += 1;
                let directive = std::mem::take(&mut words);
                let upstream = match directive.as_slice() {
                    [kw, name, ..] if kw.text == "upstream" => Some(name.text.clone()),
                    _ => None,
                };
                stack.push(Block {
                    id: blocks_opened,
                    upstream,
                });
                blocks_opened += 1;
            }
            b'}' => {
                i += 1;
                words.clear();
                stack.pop();
            }
            _ => {
                let (token, next) = token(text, i);
                words.push(token);
                i = next;
            }
        }
    }
    servers
}

/// Reads one token starting at `start`: quoted, or bare up to whitespace or `;`, `{`, `}`.
fn token(text: &str, start: usize) -> (Token, usize) {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    if b[i] == b'"' || b[i] == b'\'' {
        let quote = b[i];
        i += 1;
        while i < b.len() && b[i] != quote {
            if b[i] == b'\\' && i + 1 < b.len() {
                i += 1;
            }
            out.push(b[i]);
            i += 1;
        }
        i = (i + 1).min(b.len());
    } else {
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b'}') {
            if b[i] == b'\\' && i + 1 < b.len() {
                i += 1;
            }
            out.push(b[i]);
            i += 1;
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    (
        Token {
            start,
            end: i,
            text,
        },
        i,
    )
}

/// Replaces each `(start, end)` range with its string. Ranges may overlap (two `down`s of one
/// server, each taking the blanks beside it): a range is clipped to start where the one before
/// it ended. (Found by fuzzing: overlapping ranges used to cut past the end of the text.)
fn apply(text: &str, mut edits: Vec<(usize, usize, &str)>) -> String {
    edits.sort_by_key(|&(start, end, _)| (start, end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, with) in edits {
        let start = start.max(at);
        if end < start {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(with);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn block_names(servers: &[&Server]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in servers {
        if !names.contains(&s.block_name) {
            names.push(s.block_name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "127.0.0.1:8081";

    fn marked(text: &str) -> String {
        match mark_down(text, &[ME]) {
            Drain::Marked { text, marked, .. } if marked == [ME] => text,
            other => panic!("expected {ME} marked, got {other:?}"),
        }
    }

    /// (server, upstream) left up because it is the only one up there; the text unchanged.
    fn lone(text: &str) -> Vec<(String, String)> {
        match mark_down(text, &[ME]) {
            Drain::Marked {
                text: after,
                marked,
                lone,
                ..
            } if marked.is_empty() && after == text => lone,
            other => panic!("expected nothing marked, got {other:?}"),
        }
    }

    fn lone_in(block: &str) -> Vec<(String, String)> {
        vec![(ME.to_string(), block.to_string())]
    }

    fn restored(text: &str) -> String {
        match mark_up(text, ME) {
            Undrain::Restored { text, .. } => text,
            other => panic!("expected Restored, got {other:?}"),
        }
    }

    #[test]
    fn marks_our_server_down_and_restores_it_byte_for_byte() {
        let before = "upstream pdms {\n    server 127.0.0.1:8081;\n    server 10.0.0.2:8081;\n}\n";
        let after =
            "upstream pdms {\n    server 127.0.0.1:8081 down;\n    server 10.0.0.2:8081;\n}\n";
        assert_eq!(
            mark_down(before, &[ME]),
            Drain::Marked {
                text: after.to_string(),
                marked: vec![ME.to_string()],
                blocks: vec!["pdms".to_string()],
                lone: vec![],
                already: vec![],
            }
        );
        assert_eq!(restored(after), before);
    }

    #[test]
    fn keeps_parameters_spacing_and_trailing_comments() {
        let before = "upstream pdms {\n\tserver  127.0.0.1:8081   weight=2 max_fails=3 ;  # app1\n\
                      \tserver 10.0.0.2:8081 weight=1; # app2\n}\n";
        let after = "upstream pdms {\n\tserver  127.0.0.1:8081   weight=2 max_fails=3 down ;  # app1\n\
                     \tserver 10.0.0.2:8081 weight=1; # app2\n}\n";
        assert_eq!(marked(before), after);
        assert_eq!(restored(after), before);
    }

    #[test]
    fn already_down_is_left_alone() {
        let text = "upstream pdms {\n  server 127.0.0.1:8081 down;\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(
            mark_down(text, &[ME]),
            Drain::Marked {
                text: text.to_string(),
                marked: vec![],
                blocks: vec![],
                lone: vec![],
                already: vec![ME.to_string()],
            }
        );
        let up = "upstream pdms {\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(mark_up(up, ME), Undrain::AlreadyUp);
    }

    #[test]
    fn never_marks_the_last_server_down() {
        let alone = "upstream pdms {\n  server 127.0.0.1:8081;\n}\n";
        assert_eq!(lone(alone), lone_in("pdms"));

        let other_down =
            "upstream pdms {\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081 down;\n}\n";
        assert_eq!(lone(other_down), lone_in("pdms"));
    }

    #[test]
    fn a_backup_server_counts_as_up() {
        let text = "upstream pdms {\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081 backup;\n}\n";
        assert_eq!(marked(text), text.replacen(ME, &format!("{ME} down"), 1));
    }

    #[test]
    fn commented_out_servers_are_neither_ours_nor_up() {
        let text = "upstream pdms {\n  server 127.0.0.1:8081;\n  # server 10.0.0.2:8081;\n\
                    #server 127.0.0.1:8081 weight=5;\n}\n";
        assert_eq!(lone(text), lone_in("pdms"));

        let only_commented =
            "upstream pdms {\n  # server 127.0.0.1:8081;\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(
            mark_down(only_commented, &[ME]),
            Drain::NotFound(ME.to_string())
        );
        assert_eq!(mark_up(only_commented, ME), Undrain::NotFound);
    }

    #[test]
    fn matches_the_address_exactly() {
        let text = "upstream pdms {\n  server 127.0.0.1:80811;\n  server 127.0.0.1:808;\n}\n";
        assert_eq!(mark_down(text, &[ME]), Drain::NotFound(ME.to_string()));
    }

    #[test]
    fn marks_every_upstream_block_that_holds_our_server() {
        let before = "upstream pdms {\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081;\n}\n\
                      upstream other {\n  server 10.0.0.9:9000;\n}\n\
                      upstream pdms_ws {\n  server 127.0.0.1:8081 max_fails=1;\n  server 10.0.0.2:8081;\n}\n";
        let after = "upstream pdms {\n  server 127.0.0.1:8081 down;\n  server 10.0.0.2:8081;\n}\n\
                     upstream other {\n  server 10.0.0.9:9000;\n}\n\
                     upstream pdms_ws {\n  server 127.0.0.1:8081 max_fails=1 down;\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(
            mark_down(before, &[ME]),
            Drain::Marked {
                text: after.to_string(),
                marked: vec![ME.to_string()],
                blocks: vec!["pdms".to_string(), "pdms_ws".to_string()],
                lone: vec![],
                already: vec![],
            }
        );
        assert_eq!(restored(after), before);
    }

    #[test]
    fn one_block_where_we_are_last_blocks_the_whole_drain() {
        let text = "upstream pdms {\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081;\n}\n\
                    upstream pdms_admin {\n  server 127.0.0.1:8081;\n}\n";
        assert_eq!(lone(text), lone_in("pdms_admin"));
    }

    #[test]
    fn servers_of_other_blocks_do_not_count_as_up() {
        let text = "upstream pdms {\n  server 127.0.0.1:8081;\n}\nupstream other {\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(lone(text), lone_in("pdms"));
    }

    #[test]
    fn ignores_virtual_server_blocks_and_other_directives() {
        let before = "upstream pdms {\n  zone pdms 64k;\n  server 127.0.0.1:8081;\n  server 10.0.0.2:8081;\n  keepalive 16;\n}\n\
                      server {\n  listen 127.0.0.1:8081;\n  server_name 127.0.0.1:8081;\n  location / { proxy_pass http://pdms; }\n}\n";
        let after = before.replacen("server 127.0.0.1:8081;", "server 127.0.0.1:8081 down;", 1);
        assert_eq!(marked(before), after);
    }

    #[test]
    fn a_file_of_bare_server_lines_is_one_upstream() {
        // Included from inside `upstream pdms { include conf.d/pdms-servers.inc; }`.
        let before = "server 127.0.0.1:8081 weight=2;\nserver 10.0.0.2:8081;\n";
        let after = "server 127.0.0.1:8081 weight=2 down;\nserver 10.0.0.2:8081;\n";
        assert_eq!(marked(before), after);
        assert_eq!(restored(after), before);
        assert_eq!(lone("server 127.0.0.1:8081;\n"), lone_in("(top level)"));
    }

    #[test]
    fn removes_a_down_the_operator_put_anywhere() {
        assert_eq!(
            restored("upstream u {\n  server 127.0.0.1:8081 down weight=3;\n}\n"),
            "upstream u {\n  server 127.0.0.1:8081 weight=3;\n}\n"
        );
        assert_eq!(
            restored("upstream u {\n  server 127.0.0.1:8081\n      down;\n}\n"),
            "upstream u {\n  server 127.0.0.1:8081\n      ;\n}\n"
        );
    }

    #[test]
    fn keeps_crlf_and_multi_line_directives() {
        let before = "upstream pdms {\r\n  server 127.0.0.1:8081\r\n    weight=2\r\n    ;\r\n  server 10.0.0.2:8081;\r\n}\r\n";
        let after = "upstream pdms {\r\n  server 127.0.0.1:8081\r\n    weight=2 down\r\n    ;\r\n  server 10.0.0.2:8081;\r\n}\r\n";
        assert_eq!(marked(before), after);
        assert_eq!(restored(after), before);
    }

    #[test]
    fn handles_quoted_addresses_and_hashes_inside_tokens() {
        let before = "upstream pdms {\n  server \"127.0.0.1:8081\" route=a#b; # note; with { braces }\n  server 10.0.0.2:8081;\n}\n";
        let after = "upstream pdms {\n  server \"127.0.0.1:8081\" route=a#b down; # note; with { braces }\n  server 10.0.0.2:8081;\n}\n";
        assert_eq!(marked(before), after);
        assert_eq!(restored(after), before);
    }

    #[test]
    fn upstream_inside_http_block() {
        let before = "http {\n  upstream pdms {\n    server 127.0.0.1:8081;\n    server 10.0.0.2:8081;\n  }\n}\n";
        let after = "http {\n  upstream pdms {\n    server 127.0.0.1:8081 down;\n    server 10.0.0.2:8081;\n  }\n}\n";
        assert_eq!(marked(before), after);
    }

    #[test]
    fn two_downs_of_one_server_with_blanks_between_are_both_removed() {
        // The shape of the fuzzer's crash: `down` opening a line, then another `down`.
        let text = "upstream u {\n  server 127.0.0.1:8081 weight=1\n    down          down;\n  server 127.0.0.1:8082;\n}\n";
        let Undrain::Restored { text: up, .. } = mark_up(text, "127.0.0.1:8081") else {
            panic!("expected a restore");
        };
        assert!(!up.contains("down"), "{up}");
        assert!(up.contains("server 127.0.0.1:8082;"), "{up}");
    }

    #[test]
    fn the_fuzzers_crash_input_is_handled() {
        let text = "# 1:8082;  # b\n  \n  server 127.0.0.1:8081 w0.0.2:ei\n    down          w0.0.2:er 127.0.0.1:8081 w0.0.2:ei\n    down          w0.0.2:er\r\n       down   : b\n  \n  server  \n  server 127.0.0.1:8081 w0.0.2:ei\n    down           down;; \nq27";
        let _ = mark_up(text, "127.0.0.1:8081");
        let _ = mark_down(text, &["127.0.0.1:8081"]);
    }

    const THREE: &str = "upstream pdms {\n  server 127.0.0.1:8081;\n  server 127.0.0.1:8082;\n  server 127.0.0.1:8083;\n}\n";

    #[test]
    fn a_batch_is_marked_down_in_one_edit() {
        let Drain::Marked { text, marked, .. } =
            mark_down(THREE, &["127.0.0.1:8081", "127.0.0.1:8083"])
        else {
            panic!("expected a drain");
        };
        assert_eq!(marked, ["127.0.0.1:8081", "127.0.0.1:8083"]);
        assert_eq!(
            text,
            "upstream pdms {\n  server 127.0.0.1:8081 down;\n  server 127.0.0.1:8082;\n  server 127.0.0.1:8083 down;\n}\n"
        );
    }

    #[test]
    fn a_batch_that_is_the_whole_upstream_is_refused() {
        let all = ["127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083"];
        assert_eq!(
            mark_down(THREE, &all),
            Drain::WholeUpstream {
                block: "pdms".to_string(),
                up: 3
            }
        );
        // With one of them already down (a failed host kept out), two are the whole upstream.
        let one_down = THREE.replacen("8083;", "8083 down;", 1);
        assert_eq!(
            mark_down(&one_down, &all[..2]),
            Drain::WholeUpstream {
                block: "pdms".to_string(),
                up: 2
            }
        );
        // A server of the batch that is up elsewhere too.
        assert!(matches!(
            mark_down(&one_down, &all[..1]),
            Drain::Marked { marked, .. } if marked == ["127.0.0.1:8081"]
        ));
    }

    #[test]
    fn a_batch_names_the_server_that_is_in_no_upstream() {
        assert_eq!(
            mark_down(THREE, &["127.0.0.1:8081", "127.0.0.1:9999"]),
            Drain::NotFound("127.0.0.1:9999".to_string())
        );
    }
}
