//! CIF syntax: the tokenizer (tags, values, quoted strings, text fields, `data_`, `loop_`)
//! and the grouping of tokens into data blocks of single-valued items and loops.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A data name, lower-cased, with a DDL2 '.' turned into '_' (`_cell.length_a`).
    Tag(String),
    /// A value; `quoted` for quoted strings and text fields (never "unknown").
    Value { text: String, quoted: bool },
    /// `data_NAME`.
    Data(String),
    /// `loop_`.
    Loop,
    /// `global_`, `save_...` and `stop_`: frames we read through.
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
}

pub(super) fn tokenize(text: &str, source: &str) -> Result<Vec<Token>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(first) = line.strip_prefix(';') {
            let start = i + 1;
            let mut content = first.to_string();
            let mut j = i + 1;
            let close = loop {
                match lines.get(j) {
                    Some(l) if l.starts_with(';') => break j,
                    Some(l) => {
                        content.push('\n');
                        content.push_str(l);
                        j += 1;
                    }
                    None => {
                        return Err(Error::parse(
                            source,
                            start,
                            "unterminated text field: no line starting with ';' closes the one opened here",
                        ))
                    }
                }
            };
            tokens.push(Token {
                tok: Tok::Value {
                    text: content,
                    quoted: true,
                },
                line: start,
            });
            tokenize_line(&lines[close][1..], close + 1, source, &mut tokens)?;
            i = close + 1;
        } else {
            tokenize_line(line, i + 1, source, &mut tokens)?;
            i += 1;
        }
    }
    Ok(tokens)
}

pub(super) fn tokenize_line(
    line: &str,
    line_no: usize,
    source: &str,
    tokens: &mut Vec<Token>,
) -> Result<()> {
    let bytes = line.as_bytes();
    let n = bytes.len();
    let mut p = 0;
    loop {
        while p < n && bytes[p].is_ascii_whitespace() {
            p += 1;
        }
        if p >= n || bytes[p] == b'#' {
            return Ok(());
        }
        let c = bytes[p];
        if c == b'\'' || c == b'"' {
            // CIF 1.1: the closing quote is one followed by whitespace or the end of the line.
            let close = (p + 1..n)
                .find(|&q| bytes[q] == c && (q + 1 == n || bytes[q + 1].is_ascii_whitespace()));
            let Some(q) = close else {
                return Err(Error::parse(
                    source,
                    line_no,
                    format!(
                        "unterminated quoted string starting {}",
                        excerpt(&line[p..])
                    ),
                ));
            };
            tokens.push(Token {
                tok: Tok::Value {
                    text: line[p + 1..q].to_string(),
                    quoted: true,
                },
                line: line_no,
            });
            p = q + 1;
        } else {
            let start = p;
            while p < n && !bytes[p].is_ascii_whitespace() {
                p += 1;
            }
            let word = &line[start..p];
            tokens.push(Token {
                tok: classify(word),
                line: line_no,
            });
        }
    }
}

pub(super) fn excerpt(s: &str) -> String {
    let short: String = s.chars().take(30).collect();
    if short.len() < s.len() {
        format!("{short}...")
    } else {
        short
    }
}

pub(super) fn has_prefix(word: &str, prefix: &str) -> bool {
    word.len() >= prefix.len()
        && word.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

pub(super) fn classify(word: &str) -> Tok {
    if word.starts_with('_') {
        Tok::Tag(normalize_tag(word))
    } else if has_prefix(word, "data_") {
        Tok::Data(word[5..].to_string())
    } else if word.eq_ignore_ascii_case("loop_") {
        Tok::Loop
    } else if has_prefix(word, "save_")
        || word.eq_ignore_ascii_case("global_")
        || word.eq_ignore_ascii_case("stop_")
    {
        Tok::Other
    } else {
        Tok::Value {
            text: word.to_string(),
            quoted: false,
        }
    }
}

/// Lower-cases a tag and turns the DDL2 category separator into '_' (`_atom_site.fract_x`
/// becomes `_atom_site_fract_x`).
pub(super) fn normalize_tag(tag: &str) -> String {
    tag.to_ascii_lowercase().replacen('.', "_", 1)
}

// ---------------------------------------------------------------------------------------------
// Blocks, items and loops

#[derive(Debug, Clone)]
pub(super) struct Val {
    pub(super) text: String,
    pub(super) quoted: bool,
    pub(super) line: usize,
}

impl Val {
    /// `?` and `.` unquoted mean "unknown" / "not applicable".
    pub(super) fn is_unknown(&self) -> bool {
        !self.quoted && (self.text == "?" || self.text == ".")
    }
}

/// A table of columns: a `loop_`, or the single-valued items of a block (one row).
#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) tags: Vec<String>,
    pub(super) columns: Vec<Vec<Val>>,
    pub(super) line: usize,
}

impl Table {
    pub(super) fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
}

#[derive(Debug)]
pub(super) struct Block {
    pub(super) name: String,
    pub(super) line: usize,
    /// `tables[0]` holds the single-valued items; the others are loops.
    pub(super) tables: Vec<Table>,
}

impl Block {
    pub(super) fn new(name: String, line: usize) -> Self {
        Block {
            name,
            line,
            tables: vec![Table {
                line,
                ..Table::default()
            }],
        }
    }

    /// The table and column of a (normalized) tag, first occurrence.
    pub(super) fn find(&self, tag: &str) -> Option<(usize, usize)> {
        self.tables
            .iter()
            .enumerate()
            .find_map(|(t, table)| table.tags.iter().position(|x| x == tag).map(|c| (t, c)))
    }

    pub(super) fn column(&self, tag: &str) -> Option<&[Val]> {
        self.find(tag)
            .map(|(t, c)| self.tables[t].columns[c].as_slice())
    }

    pub(super) fn has_tag(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.tables.iter().any(|t| t.tags.iter().any(|x| pred(x)))
    }
}

pub(super) fn parse_blocks(tokens: &[Token], source: &str) -> Result<Vec<Block>> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut k = 0;
    let need_block = |blocks: &[Block], line: usize, what: &str| -> Result<()> {
        if blocks.is_empty() {
            Err(Error::parse(
                source,
                line,
                format!("{what} before any data_ block"),
            ))
        } else {
            Ok(())
        }
    };
    while k < tokens.len() {
        let Token { tok, line } = &tokens[k];
        let line = *line;
        match tok {
            Tok::Data(name) => {
                blocks.push(Block::new(name.clone(), line));
                k += 1;
            }
            Tok::Other => k += 1,
            Tok::Loop => {
                need_block(&blocks, line, "loop_")?;
                k += 1;
                let mut tags = Vec::new();
                while let Some(Token {
                    tok: Tok::Tag(t), ..
                }) = tokens.get(k)
                {
                    tags.push(t.clone());
                    k += 1;
                }
                if tags.is_empty() {
                    return Err(Error::parse(source, line, "loop_ without tags"));
                }
                let mut values = Vec::new();
                while let Some(Token {
                    tok: Tok::Value { text, quoted },
                    line,
                }) = tokens.get(k)
                {
                    values.push(Val {
                        text: text.clone(),
                        quoted: *quoted,
                        line: *line,
                    });
                    k += 1;
                }
                if !values.len().is_multiple_of(tags.len()) {
                    return Err(Error::parse(
                        source,
                        line,
                        format!(
                            "loop_ with {} tags ({}) has {} values, not a multiple of {}",
                            tags.len(),
                            tags.join(" "),
                            values.len(),
                            tags.len()
                        ),
                    ));
                }
                let ntags = tags.len();
                let mut columns = vec![Vec::with_capacity(values.len() / ntags); ntags];
                for (i, v) in values.into_iter().enumerate() {
                    columns[i % ntags].push(v);
                }
                let block = blocks.last_mut().expect("checked above");
                block.tables.push(Table {
                    tags,
                    columns,
                    line,
                });
            }
            Tok::Tag(tag) => {
                need_block(&blocks, line, &format!("tag {tag}"))?;
                let Some(Token {
                    tok: Tok::Value { text, quoted },
                    line: vline,
                }) = tokens.get(k + 1)
                else {
                    return Err(Error::parse(
                        source,
                        line,
                        format!("tag {tag} has no value"),
                    ));
                };
                let items = &mut blocks.last_mut().expect("checked above").tables[0];
                if !items.tags.contains(tag) {
                    items.tags.push(tag.clone());
                    items.columns.push(vec![Val {
                        text: text.clone(),
                        quoted: *quoted,
                        line: *vline,
                    }]);
                }
                k += 2;
            }
            Tok::Value { text, .. } => {
                return Err(Error::parse(
                    source,
                    line,
                    format!("value {} without a tag (outside any loop_)", excerpt(text)),
                ));
            }
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_quotes_and_text_fields() {
        let toks = tokenize(
            "_a 'it''s' \"q\"x\" y\n;\nline 1\n;  _b\n_c 'don't' # c\n",
            "t",
        )
        .unwrap();
        let texts: Vec<String> = toks
            .iter()
            .map(|t| match &t.tok {
                Tok::Tag(s) => format!("T:{s}"),
                Tok::Value { text, .. } => format!("V:{text}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "T:_a",
                "V:it''s",
                "V:q\"x",
                "V:y",
                "V:\nline 1",
                "T:_b",
                "T:_c",
                "V:don't"
            ]
        );
        assert_eq!(toks[4].line, 2);
        assert_eq!(toks[5].line, 4);
    }
}
