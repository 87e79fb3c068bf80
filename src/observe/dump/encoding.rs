//! The input's encoding: UTF-8, or UTF-16/32 behind a byte-order mark turned into
//! UTF-8, and the text held while it is read (borrowed, or owned and cut from the end).

use super::DumpError;

/// The input's text: borrowed from the caller, or owned (transcoded, or handed over),
/// and then cut from the end as it is read.
pub(super) enum Text<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Owned(text) => text,
        }
    }

    /// Frees the text from byte `from` on, once nothing after it is read again.
    pub(super) fn release(&mut self, from: usize) {
        if let Text::Owned(text) = self
            && text.is_char_boundary(from)
        {
            text.truncate(from);
            // Giving back memory costs a system call: in steps of a megabyte.
            if text.capacity() - text.len() >= 1 << 20 {
                text.shrink_to_fit();
            }
        }
    }
}

/// What the first bytes say the encoding is.
pub(super) enum Decoded {
    /// UTF-8 (not yet checked) from byte `skip` on, past any byte-order mark.
    Utf8 { skip: usize },
    /// UTF-16 or UTF-32, already turned into UTF-8.
    Transcoded(String),
}

/// Turns UTF-16 or UTF-32 (the bytes after the mark) into UTF-8; `None` when invalid.
type Transcode = fn(&[u8]) -> Option<String>;

/// How to read `bytes`. A byte-order mark names the encoding: Windows PowerShell 5.1
/// writes `kubectl … > dump.yaml` as UTF-16LE with one, and YAML 1.2 (§5.2) has readers
/// accept UTF-16 and UTF-32 that way. Without a mark only UTF-8 is read (and it is
/// never copied).
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, DumpError> {
    const UTF8: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(UTF8) {
        return Ok(Decoded::Utf8 { skip: UTF8.len() });
    }
    // UTF-32LE's mark starts with UTF-16LE's, so it is tried first.
    let wide: [(&[u8], &'static str, Transcode); 4] = [
        (b"\x00\x00\xFE\xFF", "UTF-32BE", |b| {
            utf32(b, u32::from_be_bytes)
        }),
        (b"\xFF\xFE\x00\x00", "UTF-32LE", |b| {
            utf32(b, u32::from_le_bytes)
        }),
        (b"\xFE\xFF", "UTF-16BE", |b| utf16(b, u16::from_be_bytes)),
        (b"\xFF\xFE", "UTF-16LE", |b| utf16(b, u16::from_le_bytes)),
    ];
    for (mark, name, transcode) in wide {
        if let Some(rest) = bytes.strip_prefix(mark) {
            return transcode(rest)
                .map(Decoded::Transcoded)
                .ok_or(DumpError::BadEncoding(name));
        }
    }
    // ASCII text in UTF-16 without a mark has a zero byte beside every character: say so
    // rather than let a parser stumble on the first of them.
    if let [a, b, c, d, ..] = bytes
        && ((*a != 0 && *b == 0 && *c != 0 && *d == 0)
            || (*a == 0 && *b != 0 && *c == 0 && *d != 0))
    {
        return Err(DumpError::Utf16WithoutMark);
    }
    Ok(Decoded::Utf8 { skip: 0 })
}

/// UTF-16 units (`unit` reads one pair of bytes) as UTF-8; `None` when not UTF-16.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// UTF-32 code points (`unit` reads four bytes) as UTF-8; `None` when not UTF-32.
fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Option<String> {
    if bytes.len() % 4 != 0 {
        return None;
    }
    bytes
        .chunks_exact(4)
        .map(|four| char::from_u32(unit([four[0], four[1], four[2], four[3]])))
        .collect()
}
