//! Dockerfile parsing: continuation lines, comments, parser directives,
//! flags (`--chown=…`), and variable substitution.

use std::collections::BTreeMap;

/// One instruction, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where it starts.
    pub line: usize,
    /// Upper-case keyword: `RUN`, `COPY`, …
    pub keyword: String,
    /// `--name=value` flags before the arguments.
    pub flags: Vec<(String, String)>,
    /// The arguments, raw (continuations joined).
    pub args: String,
}

/// Why a Dockerfile cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// `word` (at the start of `line`) is not an instruction.
    #[error("Dockerfile line {line}: unknown instruction {word}")]
    UnknownInstruction { line: usize, word: String },
}

/// Why an instruction's arguments cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum InstructionError {
    /// `COPY --from` or `ADD --from`: needs multi-stage builds.
    #[error("--from (multi-stage builds) is not supported")]
    FromStage,
    /// The JSON form of COPY or ADD is not an array of strings.
    #[error("bad JSON form")]
    CopyJson(#[source] serde_json::Error),
    /// COPY or ADD with fewer than two words.
    #[error("{keyword} needs a source and a destination")]
    CopyArgs { keyword: String },
    #[error("SHELL needs a JSON array")]
    ShellJson(#[source] serde_json::Error),
    #[error("SHELL needs a command")]
    ShellEmpty,
    /// An instruction cairn knows but does not run (ONBUILD, HEALTHCHECK).
    #[error("{keyword} is not supported")]
    Unsupported { keyword: String },
}

pub const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Parse a Dockerfile.
pub fn parse(text: &str) -> Result<Vec<Instruction>, ParseError> {
    let mut escape = '\\';
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    // Parser directives: only at the very top, `# key=value`.
    while let Some((_, l)) = lines.peek() {
        let t = l.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        match d.trim().split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("escape") => {
                escape = v.trim().chars().next().unwrap_or('\\');
                lines.next();
            }
            Some((k, _)) if k.trim().eq_ignore_ascii_case("syntax") => {
                lines.next();
            }
            _ => break,
        }
    }
    while let Some((i, l)) = lines.next() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let start = i + 1;
        let mut full = String::new();
        let mut cur = l.trim_start().to_string();
        loop {
            let trimmed = cur.trim_end();
            if trimmed.ends_with(escape) {
                full.push_str(&trimmed[..trimmed.len() - escape.len_utf8()]);
                // the next line that is neither a comment nor blank
                // continues it (docker skips empty continuation lines)
                let mut next = None;
                for (_, nl) in lines.by_ref() {
                    if nl.trim_start().starts_with('#') || nl.trim().is_empty() {
                        continue;
                    }
                    next = Some(nl.to_string());
                    break;
                }
                match next {
                    Some(n) => cur = n,
                    None => break,
                }
            } else {
                full.push_str(&cur);
                break;
            }
        }
        let full = full.trim();
        let (word, rest) = full.split_once(char::is_whitespace).unwrap_or((full, ""));
        let keyword = word.to_ascii_uppercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err(ParseError::UnknownInstruction {
                line: start,
                word: word.into(),
            });
        }
        let mut rest = rest.trim_start();
        let mut flags = Vec::new();
        while let Some(f) = rest.strip_prefix("--") {
            let (flag, after) = f.split_once(char::is_whitespace).unwrap_or((f, ""));
            let (k, v) = flag.split_once('=').unwrap_or((flag, ""));
            flags.push((k.to_string(), v.to_string()));
            rest = after.trim_start();
        }
        out.push(Instruction {
            line: start,
            keyword,
            flags,
            args: rest.trim_end().to_string(),
        });
    }
    Ok(out)
}

/// What an instruction does, its arguments taken apart as its kind needs.
/// Variables are not substituted yet: their values come from the build's
/// state when the instruction runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `FROM image [AS name]`: the base image (`scratch` for none).
    From { image: String },
    /// `ARG name[=default]`
    Arg {
        name: String,
        default: Option<String>,
    },
    /// `RUN`: the command, in shell or (`exec_form`) JSON form.
    Run { command: String, exec_form: bool },
    /// `COPY` or (`add`) `ADD`: sources then the destination, at least two.
    Copy {
        add: bool,
        words: Vec<String>,
        chown: Option<String>,
    },
    /// `SHELL ["executable", "parameters"…]`
    Shell(Vec<String>),
    /// `MAINTAINER`: history only.
    Maintainer,
    /// CMD ENTRYPOINT ENV WORKDIR USER LABEL EXPOSE VOLUME STOPSIGNAL:
    /// a change of the config only, applied as `keyword args`.
    Config,
}

impl Instruction {
    /// Take the arguments apart for this kind of instruction; why not, for
    /// the ones that cannot be run.
    pub fn command(&self) -> Result<Command, InstructionError> {
        let flag = |name: &str| {
            self.flags
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Ok(match self.keyword.as_str() {
            "FROM" => Command::From {
                image: self.args.split_whitespace().next().unwrap_or("").into(),
            },
            "ARG" => {
                let a = self.args.trim();
                match a.split_once('=') {
                    Some((n, d)) => Command::Arg {
                        name: n.into(),
                        default: Some(d.trim_matches('"').into()),
                    },
                    None => Command::Arg {
                        name: a.into(),
                        default: None,
                    },
                }
            }
            "RUN" => Command::Run {
                command: self.args.clone(),
                exec_form: self.args.trim_start().starts_with('['),
            },
            "COPY" | "ADD" => {
                if flag("from").is_some() {
                    return Err(InstructionError::FromStage);
                }
                let words: Vec<String> = if self.args.trim_start().starts_with('[') {
                    serde_json::from_str(&self.args).map_err(InstructionError::CopyJson)?
                } else {
                    self.args.split_whitespace().map(String::from).collect()
                };
                if words.len() < 2 {
                    return Err(InstructionError::CopyArgs {
                        keyword: self.keyword.clone(),
                    });
                }
                Command::Copy {
                    add: self.keyword == "ADD",
                    words,
                    chown: flag("chown"),
                }
            }
            "SHELL" => {
                let sh: Vec<String> =
                    serde_json::from_str(&self.args).map_err(InstructionError::ShellJson)?;
                if sh.is_empty() {
                    return Err(InstructionError::ShellEmpty);
                }
                Command::Shell(sh)
            }
            "MAINTAINER" => Command::Maintainer,
            "ONBUILD" | "HEALTHCHECK" => {
                return Err(InstructionError::Unsupported {
                    keyword: self.keyword.clone(),
                })
            }
            _ => Command::Config,
        })
    }
}

/// Substitute `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR:+word}`; `\$` is
/// a literal dollar.
pub fn substitute(s: &str, vars: &BTreeMap<String, String>) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '\\' && i + 1 < b.len() && b[i + 1] == '$' {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' || i + 1 >= b.len() {
            out.push(c);
            i += 1;
            continue;
        }
        if b[i + 1] == '{' {
            let Some(end) = b[i + 2..].iter().position(|&x| x == '}') else {
                out.push(c);
                i += 1;
                continue;
            };
            let inner: String = b[i + 2..i + 2 + end].iter().collect();
            let val = if let Some((name, word)) = inner.split_once(":-") {
                vars.get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| word.to_string())
            } else if let Some((name, word)) = inner.split_once(":+") {
                if vars.get(name).is_some_and(|v| !v.is_empty()) {
                    word.to_string()
                } else {
                    String::new()
                }
            } else {
                vars.get(&inner).cloned().unwrap_or_default()
            };
            out.push_str(&val);
            i += 3 + end;
            continue;
        }
        let name: String = b[i + 1..]
            .iter()
            .take_while(|x| x.is_ascii_alphanumeric() || **x == '_')
            .collect();
        if name.is_empty() {
            out.push(c);
            i += 1;
            continue;
        }
        out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
        i += 1 + name.chars().count();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuations_comments_flags() {
        let d = "# syntax=docker/dockerfile:1\nFROM busybox AS base\n# comment\nRUN echo a \\\n  # inner comment\n  && echo b\ncopy --chown=1:2 a /b\n\nENV A=1\n";
        let p = parse(d).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].keyword, "FROM");
        assert_eq!(p[1].args, "echo a   && echo b");
        assert_eq!(p[1].line, 4);
        assert_eq!(p[2].keyword, "COPY");
        assert_eq!(p[2].flags, vec![("chown".to_string(), "1:2".to_string())]);
        assert_eq!(p[2].args, "a /b");
        assert!(matches!(
            parse("FROB x"),
            Err(ParseError::UnknownInstruction { line: 1, ref word }) if word == "FROB"
        ));
    }

    #[test]
    fn substitutes() {
        let mut v = BTreeMap::new();
        v.insert("A".to_string(), "1".to_string());
        assert_eq!(
            substitute("$A ${A} ${B:-x} ${A:+y} \\$A $", &v),
            "1 1 x y $A $"
        );
    }
}

#[cfg(test)]
mod edge_cases {
    use super::*;

    fn one(text: &str) -> Instruction {
        let mut p = parse(text).unwrap();
        assert_eq!(p.len(), 1, "{p:?}");
        p.remove(0)
    }

    #[test]
    fn the_escape_directive_changes_the_continuation_character() {
        let p = parse("# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo ok\n").unwrap();
        assert_eq!(p[1].args, "dir c:\\   && echo ok");
        // a directive after the first instruction is a comment
        let p = parse("FROM x\n# escape=`\nRUN a `\nRUN b\n").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].args, "a `");
        // an unknown directive ends the directives
        let p = parse("# foo=bar\n# escape=`\nRUN a \\\n b\n").unwrap();
        assert_eq!(p[0].args, "a  b");
    }

    #[test]
    fn continuations_blank_lines_and_line_endings() {
        assert_eq!(one("RUN a \\\r\n b\r\n").args, "a  b");
        // a continuation at the end of the file ends the instruction
        assert_eq!(one("RUN a \\").args, "a");
        assert_eq!(one("RUN a \\\n").args, "a");
        // a blank line in a continuation continues it, as docker does
        assert_eq!(one("RUN a \\\n\n  b").args, "a   b");
        let i = one("\n\n   run   echo   x   \n");
        assert_eq!(
            (i.line, i.keyword.as_str(), i.args.as_str()),
            (3, "RUN", "echo   x")
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# only a comment\n\n").unwrap().is_empty());
    }

    #[test]
    fn flags_and_forms_are_kept_raw() {
        let i = one("COPY --from=build --chown=1:1 --link a b");
        assert_eq!(
            i.flags,
            vec![
                ("from".into(), "build".into()),
                ("chown".into(), "1:1".into()),
                ("link".into(), String::new())
            ]
        );
        assert_eq!(i.args, "a b");
        assert_eq!(one("CMD [\"a\", \"b c\"]").args, "[\"a\", \"b c\"]");
        assert_eq!(one("HEALTHCHECK").args, "");
        let e = parse("FROM x\nRUN y\n\nNOPE z").unwrap_err();
        assert!(
            matches!(&e, ParseError::UnknownInstruction { line: 4, word } if word == "NOPE"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "Dockerfile line 4: unknown instruction NOPE");
    }

    #[test]
    fn commands_take_their_arguments_apart() {
        let c = |t: &str| one(t).command().unwrap();
        assert_eq!(
            c("FROM busybox AS base"),
            Command::From {
                image: "busybox".into()
            }
        );
        assert_eq!(
            c("ARG V=\"1 2\""),
            Command::Arg {
                name: "V".into(),
                default: Some("1 2".into())
            }
        );
        assert_eq!(
            c("RUN [\"a\"]"),
            Command::Run {
                command: "[\"a\"]".into(),
                exec_form: true
            }
        );
        assert_eq!(
            c("ADD --chown=1:2 [\"a b\", \"/c\"]"),
            Command::Copy {
                add: true,
                words: vec!["a b".into(), "/c".into()],
                chown: Some("1:2".into())
            }
        );
        assert_eq!(c("WORKDIR /x"), Command::Config);
    }

    #[test]
    fn instructions_that_cannot_run_say_why() {
        use InstructionError as E;
        let e = |t: &str| one(t).command().unwrap_err();
        assert!(matches!(e("COPY a"), E::CopyArgs { keyword } if keyword == "COPY"));
        assert!(matches!(e("ADD [\"a\"]"), E::CopyArgs { keyword } if keyword == "ADD"));
        assert!(matches!(e("COPY --from=x a b"), E::FromStage));
        assert!(matches!(e("COPY [\"a\", 1]"), E::CopyJson(_)));
        assert!(matches!(e("SHELL sh -c"), E::ShellJson(_)));
        assert!(matches!(e("SHELL []"), E::ShellEmpty));
        assert!(matches!(e("ONBUILD RUN x"), E::Unsupported { keyword } if keyword == "ONBUILD"));
        assert!(matches!(e("HEALTHCHECK NONE"), E::Unsupported { .. }));
        // the messages people see, the JSON error kept as the source
        assert_eq!(
            e("COPY a").to_string(),
            "COPY needs a source and a destination"
        );
        let json = e("SHELL sh -c");
        assert_eq!(json.to_string(), "SHELL needs a JSON array");
        assert!(std::error::Error::source(&json).is_some());
    }

    #[test]
    fn substitution_edge_cases() {
        let mut v = BTreeMap::new();
        v.insert("A".to_string(), "1".to_string());
        v.insert("E".to_string(), String::new());
        v.insert("LONG_name1".to_string(), "L".to_string());
        let s = |x: &str| substitute(x, &v);
        assert_eq!(s("$LONG_name1-x"), "L-x");
        assert_eq!(s("${E:-d} ${E:+p} ${E}|"), "d  |");
        assert_eq!(s("${MISSING} $MISSING ${MISSING:-}|"), "  |");
        assert_eq!(s("${A"), "${A", "an unterminated brace is literal");
        assert_eq!(s("$ $- $$"), "$ $- $$");
        assert_eq!(s("é$A€"), "é1€");
        assert_eq!(s("a\\$A\\b"), "a$A\\b");
        // no recursion: a value with a dollar stays as it is
        v.insert("D".to_string(), "$A".to_string());
        assert_eq!(substitute("$D", &v), "$A");
    }
}
