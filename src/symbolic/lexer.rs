//! Tokeniser for the expression language. Every token carries its byte
//! range in the expression string so that errors can point at it.
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Num(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
    End,
}

impl Tok {
    /// How the token is named in "expected ..., found ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Num(x) => format!("number `{x}`"),
            Tok::Ident(s) => format!("name `{s}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::End => "end of expression".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// A lexical or syntactic error at a byte range of the expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    pub span: Range<usize>,
    pub message: String,
    /// Optional "did you mean"/how-to-fix line.
    pub help: Option<String>,
}

impl ExprError {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        ExprError { span, message: message.into(), help: None }
    }
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Split `src` into tokens, ending with [`Tok::End`].
///
/// Numbers: `12`, `1.5`, `.5`, `1e-3`, `2.5E+4`. Names: `[A-Za-z_][A-Za-z0-9_]*`.
/// `**` is rejected with a hint towards `^` rather than silently accepted.
pub fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            b'+' => Some(Tok::Plus),
            b'-' => Some(Tok::Minus),
            b'*' => Some(Tok::Star),
            b'/' => Some(Tok::Slash),
            b'^' => Some(Tok::Caret),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(tok) = single {
            if c == b'*' && bytes.get(i + 1) == Some(&b'*') {
                return Err(ExprError::new(i..i + 2, "unexpected `**`")
                    .with_help(Some("write powers as `x^2`".into())));
            }
            out.push(Token { tok, span: i..i + 1 });
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'.' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                } else {
                    return Err(ExprError::new(start..j, format!("malformed number `{}`", &src[start..j]))
                        .with_help(Some("an exponent needs digits, e.g. `1e-3`".into())));
                }
            }
            let text = &src[start..i];
            let value: f64 = text
                .parse()
                .map_err(|_| ExprError::new(start..i, format!("malformed number `{text}`")))?;
            // A name glued to a number (`2x`) is almost always a missing `*`.
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                return Err(ExprError::new(start..j, format!("unexpected `{}`", &src[start..j]))
                    .with_help(Some(format!("write multiplication explicitly: `{}*{}`", text, &src[i..j]))));
            }
            out.push(Token { tok: Tok::Num(value), span: start..i });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(src[start..i].to_string()), span: start..i });
            continue;
        }
        // Report the whole (possibly multi-byte) character.
        let ch = src[i..].chars().next().unwrap_or('?');
        let end = i + ch.len_utf8();
        let help = match ch {
            '[' | ']' | '{' | '}' => Some("use round parentheses `( )` for grouping".to_string()),
            '=' | '<' | '>' | '!' => Some("comparisons are not expressions; use min/max/heaviside".to_string()),
            _ => None,
        };
        return Err(ExprError::new(i..end, format!("unexpected character `{ch}`")).with_help(help));
    }
    out.push(Token { tok: Tok::End, span: bytes.len()..bytes.len() });
    Ok(out)
}
