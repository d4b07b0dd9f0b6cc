//! A contact CSV as it streams in: cut into chunks of whole records (never inside a
//! quoted field), each with the line its first record starts on, so the chunks can be
//! stored as they arrive and applied one by one; and the header's columns mapped to
//! contact fields (contract §3c: `phone`, `name`, `email`, `type`, `tags` separated by
//! `;`, `attr.<name>`; also `notes` and `lifetime_spend`).

use super::contact::check_key;
use super::FieldError;

/// Roughly how much text one chunk holds: a few hundred rows, applied in one transaction.
pub const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Phone,
    Name,
    Email,
    Type,
    Tags,
    Notes,
    LifetimeSpend,
    Attribute(String),
    /// A column the import leaves out (`-` in the header, after a mapping said so).
    Ignore,
}

/// The header's columns, or why it cannot be read (422 naming `columns`).
pub fn columns(header: &[String]) -> Result<Vec<Column>, FieldError> {
    let mut out = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        let c = match name.as_str() {
            "phone" => Column::Phone,
            "name" => Column::Name,
            "email" => Column::Email,
            "type" => Column::Type,
            "tags" => Column::Tags,
            "notes" => Column::Notes,
            "lifetime_spend" => Column::LifetimeSpend,
            "-" => Column::Ignore,
            other => match other.strip_prefix("attr.") {
                Some(attr) => {
                    check_key(&format!("columns[{i}]"), attr)?;
                    Column::Attribute(attr.to_string())
                }
                None => {
                    return Err(FieldError::new(
                        format!("columns[{i}]"),
                        format!("unknown column '{raw}' (columns: phone, name, email, type, tags, notes, lifetime_spend, attr.<name>)"),
                    ))
                }
            },
        };
        if c != Column::Ignore && out.contains(&c) {
            return Err(FieldError::new(
                format!("columns[{i}]"),
                format!("column '{raw}' appears twice"),
            ));
        }
        out.push(c);
    }
    if !out.contains(&Column::Phone) {
        return Err(FieldError::new(
            "columns",
            "the header needs a phone column",
        ));
    }
    Ok(out)
}

/// Cuts a byte stream into chunks of whole records.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    /// Inside a quoted field at the end of `buf`.
    quoted: bool,
    /// Where in `buf` the scan stopped, and the last record end found before it.
    scanned: usize,
    last_end: usize,
    /// The line `buf` starts on.
    line: i64,
    /// The header record, once read.
    pub header: Option<String>,
    started: bool,
}

impl Splitter {
    pub fn new() -> Splitter {
        Splitter {
            line: 1,
            ..Default::default()
        }
    }

    /// Takes more bytes; answers the chunks now complete: (first line, text).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<(i64, String)>, String> {
        self.buf.extend_from_slice(bytes);
        if !self.started {
            if self.buf.len() < 3 && !self.buf.is_empty() && b"\xEF\xBB\xBF".starts_with(&self.buf)
            {
                return Ok(Vec::new());
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            self.started = true;
        }
        self.scan();
        let mut out = Vec::new();
        if self.header.is_none() {
            if self.last_end == 0 {
                return Ok(out);
            }
            let end = self.header_end();
            let text = self.take(end)?;
            self.header = Some(text.trim_end_matches(['\r', '\n']).to_string());
            self.scan();
        }
        while self.last_end >= CHUNK_BYTES {
            let first = self.line;
            let text = self.take(self.last_end)?;
            out.push((first, text));
            self.scan();
        }
        Ok(out)
    }

    /// The rest, once the body has ended.
    pub fn finish(&mut self) -> Result<Option<(i64, String)>, String> {
        if !self.started && !self.buf.is_empty() {
            self.started = true;
        }
        if self.header.is_none() {
            let text = self.take(self.buf.len())?;
            self.header = Some(text.trim_end_matches(['\r', '\n']).to_string());
            return Ok(None);
        }
        if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(None);
        }
        let first = self.line;
        let text = self.take(self.buf.len())?;
        Ok(Some((first, text)))
    }

    /// Where the header (the first record) ends: its first newline outside quotes.
    fn header_end(&self) -> usize {
        let mut quoted = false;
        for (i, b) in self.buf.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => return i + 1,
                _ => {}
            }
        }
        self.buf.len()
    }

    fn scan(&mut self) {
        for i in self.scanned..self.buf.len() {
            match self.buf[i] {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.last_end = i + 1,
                _ => {}
            }
        }
        self.scanned = self.buf.len();
    }

    /// The first `end` bytes as text; the scan state moves past them.
    fn take(&mut self, end: usize) -> Result<String, String> {
        let head: Vec<u8> = self.buf.drain(..end).collect();
        let newlines = head.iter().filter(|b| **b == b'\n').count() as i64;
        self.line += newlines;
        // Rescan what is left from its start (cheap: at most one chunk's worth).
        self.scanned = 0;
        self.last_end = 0;
        self.quoted = false;
        String::from_utf8(head).map_err(|_| "the body is not UTF-8 text".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stay_whole_and_lines_are_counted() {
        let mut s = Splitter::new();
        let mut body = String::from("\u{feff}phone,name,notes\r\n");
        for i in 0..5000 {
            body.push_str(&format!("+4477009{i:05},Name {i},\"two\nlines\"\n"));
        }
        let mut chunks = Vec::new();
        for piece in body.as_bytes().chunks(1000) {
            chunks.extend(s.feed(piece).expect("utf-8"));
        }
        chunks.extend(s.finish().expect("utf-8"));
        assert_eq!(s.header.as_deref(), Some("phone,name,notes"));
        assert!(chunks.len() > 1, "{}", chunks.len());
        let mut line = 2;
        let mut rows = 0;
        for (first, text) in &chunks {
            assert_eq!(*first, line, "a chunk starts where the last ended");
            assert!(text.ends_with("lines\"\n"), "whole records only");
            let n = text.matches("Name ").count() as i64;
            rows += n;
            line += 2 * n;
        }
        assert_eq!(rows, 5000);
    }

    #[test]
    fn headers_map_to_fields() {
        let h = |cols: &[&str]| columns(&cols.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        assert_eq!(
            h(&["Phone", "name", "attr.plan", "tags"]).unwrap(),
            vec![
                Column::Phone,
                Column::Name,
                Column::Attribute("plan".into()),
                Column::Tags
            ]
        );
        assert_eq!(h(&["name"]).unwrap_err().field, "columns");
        assert_eq!(h(&["phone", "colour"]).unwrap_err().field, "columns[1]");
        assert_eq!(h(&["phone", "phone"]).unwrap_err().field, "columns[1]");
        assert!(h(&["phone", "attr.Bad Name"]).is_err());
    }

    #[test]
    fn a_header_alone_and_no_trailing_newline() {
        let mut s = Splitter::new();
        assert!(s.feed(b"phone,name").unwrap().is_empty());
        assert_eq!(s.finish().unwrap(), None);
        assert_eq!(s.header.as_deref(), Some("phone,name"));
        let mut s = Splitter::new();
        assert!(s
            .feed(b"phone\n+447700900001\n+4477009")
            .unwrap()
            .is_empty());
        assert_eq!(
            s.finish().unwrap(),
            Some((2, "+447700900001\n+4477009".to_string()))
        );
    }
}
