//! Where each key of a block-style YAML document sits. serde_yaml gives no positions for
//! keys, so this rebuilds each key's path from the indentation, the `- ` items and the
//! `key:` of every line. It places only what it follows: flow collections (`{…}`, `[…]`)
//! and scalars are stepped over, not entered, and on anything else it does not follow
//! (a tab in the indentation, a `?` key, an anchor or tag before a key, a second
//! document) it stops, so a key it did not reach gets no line rather than a wrong one.

/// One step of a key's path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// The keys of a document with the 1-based line each starts on, in document order.
#[derive(Debug, Default)]
pub(super) struct KeyLines {
    keys: Vec<(Vec<Seg>, usize)>,
    /// The line of a `---` that starts a second document.
    second_document: Option<usize>,
}

impl KeyLines {
    /// Walks `text`, line by line.
    pub(super) fn read(text: &str) -> Self {
        let mut walk = Walk::default();
        for (number, line) in text.lines().enumerate() {
            let line = if number == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            if walk.line(line, number + 1).is_err() {
                break;
            }
        }
        walk.found
    }

    /// Keeps the walk only when every path it found is one the parser found too (`known`)
    /// and none is found twice; otherwise it places nothing. A walk that lost its way
    /// never names a wrong line.
    pub(super) fn verified(self, known: impl Fn(&[Seg]) -> bool) -> Self {
        let mut seen = std::collections::HashSet::new();
        let sound = self
            .keys
            .iter()
            .all(|(path, _)| known(path) && seen.insert(path.as_slice()));
        if sound { self } else { Self::default() }
    }

    /// The line of the key at `path`.
    pub(super) fn line_of(&self, path: &[Seg]) -> Option<usize> {
        self.keys
            .iter()
            .find(|(found, _)| found == path)
            .map(|(_, line)| *line)
    }

    /// The path of the key that starts on `line`.
    pub(super) fn path_at(&self, line: usize) -> Option<&[Seg]> {
        self.keys
            .iter()
            .find(|(_, at)| *at == line)
            .map(|(path, _)| path.as_slice())
    }

    /// The lines of every key found at `path` (more than one when a key is given twice).
    pub(super) fn lines_of(&self, path: &[Seg]) -> Vec<usize> {
        self.keys
            .iter()
            .filter(|(found, _)| found == path)
            .map(|(_, line)| *line)
            .collect()
    }

    /// The line of the `---` that starts a second document.
    pub(super) fn second_document(&self) -> Option<usize> {
        self.second_document
    }
}

/// The plain key written on line `number` of `text` (`restartPolicy` of `  - restartPolicy:
/// Always`), wherever the walk placed it or not: for a line the parser could not read.
pub(super) fn key_written_on(text: &str, number: usize) -> Option<String> {
    let line = text
        .lines()
        .nth(number.checked_sub(1)?)?
        .trim_start_matches(' ');
    let line = line.trim_start_matches(['-', ' ']);
    let (key, _) = plain_key(line)?;
    let plain = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
    plain.then(|| key.to_owned())
}

/// The path as the API server writes it: `spec.template.spec.initContainers[0].name`; a
/// map key that is no plain name in brackets, `metadata.labels[app.kubernetes.io/name]`.
pub(super) fn api_path(path: &[Seg]) -> String {
    let mut text = String::new();
    for seg in path {
        match seg {
            Seg::Key(key)
                if !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)) =>
            {
                text.push_str(&format!("[{key}]"));
            }
            Seg::Key(key) if text.is_empty() => text.push_str(key),
            Seg::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Seg::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// Deeper than any Job (about 10 levels): the walk stops there.
const MAX_DEPTH: usize = 64;
/// More keys than any Job has: the walk stops there.
const MAX_KEYS: usize = 10_000;

/// A key or a `- ` item open at a column.
#[derive(Debug)]
struct Frame {
    column: usize,
    seg: Seg,
}

/// Lines that belong to a value started above.
#[derive(Debug, Default)]
enum Skip {
    #[default]
    No,
    /// A block scalar or a plain scalar's continuation: blank lines and lines indented
    /// deeper than this column.
    Deeper(usize),
    /// A flow collection or a quoted scalar not closed yet.
    Open(Flow),
}

/// The walk stopped at something it does not follow.
struct Lost;

#[derive(Debug, Default)]
struct Walk {
    stack: Vec<Frame>,
    skip: Skip,
    found: KeyLines,
    /// Whether a node has been seen: a `---` after it starts a second document.
    content: bool,
}

impl Walk {
    fn line(&mut self, line: &str, number: usize) -> Result<(), Lost> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let blank = rest.trim().is_empty();
        match &mut self.skip {
            Skip::Deeper(column) if blank || indent > *column => return Ok(()),
            Skip::Open(flow) => {
                if flow.scan(line)? {
                    self.skip = Skip::No;
                }
                return Ok(());
            }
            _ => self.skip = Skip::No,
        }
        if blank || rest.starts_with('#') {
            return Ok(());
        }
        if rest.starts_with('\t') {
            return Err(Lost);
        }
        if indent == 0 && is_marker(rest) {
            return self.marker(rest, number);
        }
        if indent == 0 && rest.starts_with('%') && !self.content {
            return Ok(());
        }
        self.content = true;
        self.node(indent, rest, number, indent)
    }

    /// A `---` or `...` at the left margin.
    fn marker(&mut self, rest: &str, number: usize) -> Result<(), Lost> {
        let after = rest[3..].trim_start();
        let bare = after.is_empty() || after.starts_with('#');
        if rest.starts_with("---") && bare && !self.content {
            return Ok(());
        }
        if rest.starts_with("---") && self.content {
            self.found.second_document = Some(number);
        }
        Err(Lost)
    }

    /// The node starting at `column` of line `number`, `text` being the rest of the line;
    /// lines deeper than `owner` may continue it.
    fn node(
        &mut self,
        mut column: usize,
        mut text: &str,
        number: usize,
        mut owner: usize,
    ) -> Result<(), Lost> {
        // `- - x` nests on one line: a loop, not a recursion, however many there are.
        while text == "-" || text.starts_with("- ") || text.starts_with("-\t") {
            self.item(column)?;
            let after = text[1..].trim_start_matches([' ', '\t']);
            if after.is_empty() || after.starts_with('#') {
                return Ok(());
            }
            owner = column;
            column += text.len() - after.len();
            text = after;
        }
        match text.chars().next() {
            Some('?' | '&' | '!' | '*' | '|' | '>' | '[' | '{') | None => self.scalar(owner, text),
            Some('"' | '\'') => match quoted_key(text) {
                Some((key, value)) => self.key(column, key, value, number),
                None => self.scalar(owner, text),
            },
            Some(_) => match plain_key(text) {
                Some((key, value)) => self.key(column, key.to_owned(), value, number),
                None => self.scalar(owner, text),
            },
        }
    }

    /// A `- ` at `column`: the next item of the sequence there, or the first.
    fn item(&mut self, column: usize) -> Result<(), Lost> {
        while self.stack.last().is_some_and(|top| top.column > column) {
            self.stack.pop();
        }
        match self.stack.last_mut() {
            Some(Frame {
                column: at,
                seg: Seg::Index(index),
            }) if *at == column => *index += 1,
            _ => self.push(column, Seg::Index(0))?,
        }
        Ok(())
    }

    /// Opens a key or an item; a document nested deeper than any Job, or with more keys
    /// than any Job has, is not followed further.
    fn push(&mut self, column: usize, seg: Seg) -> Result<(), Lost> {
        if self.stack.len() >= MAX_DEPTH || self.found.keys.len() >= MAX_KEYS {
            return Err(Lost);
        }
        self.stack.push(Frame { column, seg });
        Ok(())
    }

    /// `key: value` with the key at `column`.
    fn key(&mut self, column: usize, key: String, value: &str, number: usize) -> Result<(), Lost> {
        while self.stack.last().is_some_and(|top| top.column >= column) {
            self.stack.pop();
        }
        self.push(column, Seg::Key(key))?;
        let path = self.stack.iter().map(|frame| frame.seg.clone()).collect();
        self.found.keys.push((path, number));
        let value = value.trim_start_matches([' ', '\t']);
        let value = properties(value)?;
        if value.is_empty() || value.starts_with('#') {
            return Ok(());
        }
        self.scalar(column, value)
    }

    /// A value that is not a key: stepped over, with the lines it may go on to.
    fn scalar(&mut self, column: usize, text: &str) -> Result<(), Lost> {
        match text.chars().next() {
            Some('?' | '&' | '!') | None => Err(Lost),
            Some('[' | '{' | '"' | '\'') => {
                let mut flow = Flow::default();
                if !flow.scan(text)? {
                    self.skip = Skip::Open(flow);
                }
                Ok(())
            }
            // A block scalar (`|`, `>`), an alias or a plain scalar: the lines deeper
            // than its owner are its own.
            Some(_) => {
                self.skip = Skip::Deeper(column);
                Ok(())
            }
        }
    }
}

/// `---` or `...` alone or followed by a space: a document marker, not a scalar.
fn is_marker(rest: &str) -> bool {
    (rest.starts_with("---") || rest.starts_with("..."))
        && (rest.len() == 3 || rest[3..].starts_with([' ', '\t']))
}

/// A value's anchor and tag (`&name`, `!tag`) stepped over; `*` and `<<` are left for the
/// parser (an alias's keys are not in the text where the parser finds them).
fn properties(mut value: &str) -> Result<&str, Lost> {
    for _ in 0..2 {
        if value.starts_with('&') || value.starts_with('!') {
            let end = value.find([' ', '\t']).unwrap_or(value.len());
            value = value[end..].trim_start_matches([' ', '\t']);
        }
    }
    if value.starts_with('&') || value.starts_with('!') {
        return Err(Lost);
    }
    Ok(value)
}

/// `key: rest` where the key is plain: the first `:` followed by a space or the end of
/// the line, before any comment.
fn plain_key(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == b'#' && at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
            return None;
        }
        if byte == b':' && matches!(bytes.get(at + 1), None | Some(b' ' | b'\t')) {
            let key = text[..at].trim_end_matches([' ', '\t']);
            return (!key.is_empty()).then(|| (key, &text[at + 1..]));
        }
    }
    None
}

/// `"key": rest` or `'key': rest`, the key closed on its line and free of escapes.
fn quoted_key(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next()?;
    let close = text[1..].find(quote)? + 1;
    let key = &text[1..close];
    if key.contains('\\') || text[close + 1..].starts_with(quote) {
        return None;
    }
    let after = text[close + 1..].trim_start_matches([' ', '\t']);
    let value = after.strip_prefix(':')?;
    (value.is_empty() || value.starts_with([' ', '\t'])).then(|| (key.to_owned(), value))
}

/// A flow collection or quoted scalar, scanned across lines until it closes.
#[derive(Debug, Default)]
struct Flow {
    depth: usize,
    quote: Option<char>,
    /// The last character outside quotes that was not a space: a quote opens a scalar
    /// only after `[`, `{`, `,` or `:` (or first), as in `[don't]` it does not.
    last: Option<char>,
    started: bool,
}

impl Flow {
    /// Scans one line; true once everything opened has closed.
    fn scan(&mut self, line: &str) -> Result<bool, Lost> {
        let mut chars = line.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            match self.quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some('\'') if c == '\'' && chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                Some(quote) if c == quote => {
                    self.quote = None;
                    self.last = Some(c);
                }
                Some(_) => {}
                None => self.outside(c, previous)?,
            }
            if self.started && self.depth == 0 && self.quote.is_none() {
                return Ok(true);
            }
            if self.quote.is_none() && c == '#' && previous.is_whitespace() {
                break;
            }
            previous = c;
        }
        Ok(false)
    }

    fn outside(&mut self, c: char, previous: char) -> Result<(), Lost> {
        match c {
            '#' if previous.is_whitespace() => return Ok(()),
            '[' | '{' => self.depth += 1,
            ']' | '}' => self.depth = self.depth.checked_sub(1).ok_or(Lost)?,
            '"' | '\'' if matches!(self.last, None | Some('[' | '{' | ',' | ':')) => {
                self.quote = Some(c);
            }
            _ => {}
        }
        self.started = true;
        if !c.is_whitespace() {
            self.last = Some(c);
        }
        Ok(())
    }
}
