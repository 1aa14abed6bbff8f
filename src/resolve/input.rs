//! The names to look up, read as they come: NAME arguments first, then `-f FILE` a line at a time, handed out
//! in chunks of at most a window, so an endless input (`yes name | sockdiag resolve -f -`) is asked and
//! printed as it is read, in input order, in flat memory.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};

use super::idn::{self, IdnName};
use crate::error::{Error, Result};
use crate::host::{RESOLVE, check_host};

/// The longest name: 253 bytes, 254 with the root's dot; a longer line is refused without reading it whole.
const MAX_NAME: usize = 254;

/// How much of a refused line an error quotes.
const QUOTE: usize = 100;

/// One name to look up, in the ASCII form that is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name (or address) as asked.
    pub name: String,
    /// The international form it was given in, when it was.
    pub idn: Option<IdnName>,
}

/// Checks one name and converts an international one to ASCII.
pub fn entry(text: &str) -> Result<Entry> {
    check_host(text, RESOLVE)?;
    let idn = idn::to_ascii(text)?;
    let name = idn.as_ref().map_or_else(|| text.to_string(), |i| i.ascii.clone());
    Ok(Entry { name, idn })
}

/// Reads names one a line, skipping blank lines and `#` comments; each line is read in bounded memory.
pub struct LineReader<R> {
    reader: R,
    label: String,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// A reader of `reader`, named `label` in messages.
    pub fn new(reader: R, label: &str) -> Self {
        LineReader {
            reader,
            label: label.to_string(),
            line: 0,
            buf: Vec::with_capacity(MAX_NAME + 2),
        }
    }

    /// The next name, None at the end; a line that cannot be a name is a usage error naming its number.
    pub fn next_entry(&mut self) -> Result<Option<Entry>> {
        loop {
            let Some(overlong) = self.read_line()? else {
                return Ok(None);
            };
            self.line += 1;
            let at = |why: String| Error::usage(format!("{} line {}: {why}", self.label, self.line));
            let bytes = self.buf.split(|b| *b == b'#').next().unwrap_or_default();
            let text = std::str::from_utf8(bytes).map_err(|e| {
                at(format!(
                    "not UTF-8 text (byte {} is not part of a UTF-8 character); names are UTF-8, \
                     international ones included",
                    e.valid_up_to() + 1
                ))
            })?;
            let name = text.trim();
            if overlong || name.len() > MAX_NAME {
                return Err(at(format!(
                    "a name is at most 253 bytes, and this line is longer: '{}...'",
                    quote_start(name)
                )));
            }
            if !name.is_empty() {
                return entry(name).map(Some).map_err(|e| at(e.to_string()));
            }
        }
    }

    /// Reads the next line into `buf`, keeping at most MAX_NAME + 1 bytes of it and skipping the rest;
    /// Some(true) when it was longer.
    fn read_line(&mut self) -> Result<Option<bool>> {
        self.buf.clear();
        let mut overlong = false;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("reading names from {}", self.label), e)),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(overlong));
            }
            any = true;
            let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            let room = (MAX_NAME + 1).saturating_sub(self.buf.len());
            overlong |= part.len() > room;
            self.buf.extend_from_slice(&part[..part.len().min(room)]);
            let used = done.unwrap_or(chunk.len());
            self.reader.consume(used);
            if done.is_some() {
                return Ok(Some(overlong));
            }
        }
    }
}

/// The start of a refused line, at most QUOTE bytes (escaped where every error is printed).
fn quote_start(text: &str) -> String {
    let mut end = text.len().min(QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Where the lines come from after the arguments.
enum Lines {
    /// A regular file: read in this thread, since it is all there already.
    File(LineReader<io::BufReader<std::fs::File>>),
    /// Standard input or a pipe: read by a thread, so names that arrived can be asked while it waits.
    Stream(Receiver<Result<Entry>>),
}

/// Every name to look up: the arguments, then the file's lines.
pub struct Input {
    args: VecDeque<Entry>,
    lines: Option<Lines>,
    pending_error: Option<Error>,
    args_given: usize,
    label: String,
    /// Lines read from the file so far.
    pub from_file: usize,
}

/// One chunk of names and whether the input ended with it.
#[derive(Debug)]
pub struct Chunk {
    /// The names, in input order.
    pub entries: Vec<Entry>,
    /// No name follows.
    pub last: bool,
}

impl Input {
    /// Checks the arguments and opens the file (`-` for stdin). A regular file is checked whole first, so a
    /// bad line stops the run before any query; standard input is checked as it arrives.
    pub fn open(args: &[String], file: Option<&Path>, window: usize) -> Result<Input> {
        let args = args.iter().map(|a| entry(a)).collect::<Result<VecDeque<_>>>()?;
        let lines = match file {
            None => None,
            Some(path) => Some(open_lines(path, window)?),
        };
        let label = match file {
            Some(p) if p.as_os_str() == "-" => "stdin".to_string(),
            Some(p) => format!("'{}'", p.display()),
            None => String::new(),
        };
        Ok(Input {
            args_given: args.len(),
            label,
            args,
            lines,
            pending_error: None,
            from_file: 0,
        })
    }

    /// The next chunk: every argument at once, then lines up to `window`, as many as have arrived (at least
    /// one). A bad line ends the chunk before it; its error comes with the next call.
    pub fn next_chunk(&mut self, window: usize) -> Result<Chunk> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        let mut entries: Vec<Entry> = self.args.drain(..).collect();
        let mut last = true;
        if let Some(lines) = &mut self.lines {
            last = false;
            while entries.len() < window.max(1) {
                let block = entries.is_empty();
                match next_line(lines, block) {
                    Ok(Next::Entry(e)) => {
                        self.from_file += 1;
                        entries.push(e);
                    }
                    Ok(Next::NotYet) => break,
                    Ok(Next::End) => {
                        last = true;
                        break;
                    }
                    Err(e) if entries.is_empty() => return Err(e),
                    Err(e) => {
                        self.pending_error = Some(e);
                        break;
                    }
                }
            }
            if !last && let Lines::File(reader) = lines {
                last = reader.reader.fill_buf().map(<[u8]>::is_empty).unwrap_or(false);
            }
            if last {
                self.lines = None;
                // An empty list is almost always a mistake (a wrong file or a failed pipeline).
                if self.from_file == 0 && self.args_given == 0 && !super::interrupt::interrupted() {
                    return Err(Error::usage(format!(
                        "no names in {} (one a line; # starts a comment)",
                        self.label
                    )));
                }
            }
        }
        Ok(Chunk { entries, last })
    }
}

enum Next {
    Entry(Entry),
    NotYet,
    End,
}

fn next_line(lines: &mut Lines, block: bool) -> Result<Next> {
    match lines {
        Lines::File(reader) => Ok(reader.next_entry()?.map_or(Next::End, Next::Entry)),
        // Waiting for a line that may never come: Ctrl-C ends the wait as the end of the input.
        Lines::Stream(rx) if block => loop {
            match rx.recv_timeout(std::time::Duration::from_millis(25)) {
                Ok(got) => return got.map(Next::Entry),
                Err(RecvTimeoutError::Timeout) if !super::interrupt::interrupted() => {}
                Err(_) => return Ok(Next::End),
            }
        },
        Lines::Stream(rx) => match rx.try_recv() {
            Ok(got) => got.map(Next::Entry),
            Err(TryRecvError::Empty) => Ok(Next::NotYet),
            Err(TryRecvError::Disconnected) => Ok(Next::End),
        },
    }
}

fn open_lines(path: &Path, window: usize) -> Result<Lines> {
    let label = path.display().to_string();
    if label == "-" {
        return Ok(stream(io::BufReader::new(io::stdin()), "stdin".into(), window));
    }
    let open = || match std::fs::File::open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::usage(format!(
            "cannot read names from '{}': no such file",
            label
        ))),
        Err(e) => Err(Error::io(format!("reading names from '{label}'"), e)),
    };
    let file = open()?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        // A FIFO or a device: read it as it comes, like stdin.
        return Ok(stream(io::BufReader::new(file), label, window));
    }
    let mut check = LineReader::new(io::BufReader::new(file), &label);
    let mut any = false;
    while check.next_entry()?.is_some() {
        any = true;
    }
    // An empty list is almost always a mistake (a wrong file or a failed pipeline).
    if !any {
        return Err(Error::usage(format!(
            "no names in '{}' (one a line; # starts a comment)",
            label
        )));
    }
    Ok(Lines::File(LineReader::new(io::BufReader::new(open()?), &label)))
}

/// Reads lines on a thread into a channel of `window` places: the reader waits while the window is full,
/// so memory stays flat however fast the input comes.
fn stream<R: BufRead + Send + 'static>(reader: R, label: String, window: usize) -> Lines {
    let (tx, rx) = mpsc::sync_channel(window.max(1));
    std::thread::spawn(move || {
        let mut lines = LineReader::new(reader, &label);
        loop {
            let next = lines.next_entry();
            let stop = !matches!(next, Ok(Some(_)));
            let sent = match next {
                Ok(Some(entry)) => tx.send(Ok(entry)),
                Ok(None) => break,
                Err(e) => tx.send(Err(e)),
            };
            if stop || sent.is_err() {
                break;
            }
        }
    });
    Lines::Stream(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &[u8]) -> Result<Vec<String>> {
        let mut reader = LineReader::new(text, "names.txt");
        let mut out = Vec::new();
        while let Some(e) = reader.next_entry()? {
            out.push(e.name);
        }
        Ok(out)
    }

    #[test]
    fn lines_skip_comments_and_bad_lines_are_named() {
        let text = b"# names\nweb.lab.test\n\n  mail.lab.test  # the MX\n198.51.100.7\nlast.test";
        assert_eq!(
            names(text).unwrap(),
            ["web.lab.test", "mail.lab.test", "198.51.100.7", "last.test"]
        );
        let err = names(b"ok.test\nbad name\n").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("names.txt line 2: bad name"), "{err}");
        let err = names(b"198.51.100.0/24\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("names.txt line 1: bad name '198.51.100.0/24': a CIDR block"),
            "{err}"
        );
    }

    #[test]
    fn a_huge_line_is_quoted_in_part() {
        let mut text = b"ok.test\n".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1_000_000));
        text.push(b'\n');
        let err = names(&text).unwrap_err().to_string();
        assert!(
            err.starts_with("names.txt line 2: a name is at most 253 bytes"),
            "{err}"
        );
        assert!(err.len() < 250, "quoted in part: {} bytes", err.len());
    }

    #[test]
    fn invalid_utf8_is_a_usage_error_naming_the_line() {
        let err = names(b"ok.test\n\n\xff\xfe.test\n").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().starts_with("names.txt line 3: not UTF-8 text"),
            "{err}"
        );
    }

    #[test]
    fn international_lines_are_asked_in_ascii() {
        assert_eq!(
            names("münchen.example\n".as_bytes()).unwrap(),
            ["xn--mnchen-3ya.example"]
        );
    }

    #[test]
    fn arguments_come_first_in_one_chunk() {
        let args: Vec<String> = ["a.test", "b.test"].map(String::from).to_vec();
        let mut input = Input::open(&args, None, 1).unwrap();
        let chunk = input.next_chunk(1).unwrap();
        assert_eq!(chunk.entries.len(), 2);
        assert!(chunk.last);
        let args: Vec<String> = ["ok.test", "a/b"].map(String::from).to_vec();
        assert_eq!(Input::open(&args, None, 4).err().unwrap().exit_code(), 2);
    }
}
