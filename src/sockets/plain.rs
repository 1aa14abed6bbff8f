//! The rows of one look written as plain columns: each row's cells go into one buffer of text as the kernel is
//! read, with a small sort key, and come out in the report's order once the widths and the owners are known.

use std::borrow::Cow;
use std::io::{self, Write};

use super::model::{self, SocketRow};
use super::report::{COLUMNS, SocketsReport, write_cell};
use crate::inventory::owners::{Holders, Owners};
use crate::render::plain::Columns;
use crate::text;
use unicode_width::UnicodeWidthStr;

/// Where a row sorts, in 16 bytes: the protocol and state rank, then the local address (family 0 for Unix
/// sockets, which then sort by their LOCAL text), then the order the kernel gave. An IPv4 address and port fit
/// in `addr`; an IPv6 one is kept aside, `addr` its place there.
#[derive(Debug, Clone, Copy)]
struct Key {
    addr: u64,
    row: u32,
    rank: u8,
    family: u8,
}

/// Where a row's cells, its sort key and its inode are kept. The owner cell is made when written, from the inode:
/// a process name per row would be a fifth of the text.
pub struct PlainRows {
    columns: Columns,
    keys: Vec<Key>,
    v6: Vec<([u8; 16], u16)>,
    inodes: Vec<u32>,
    /// Whether `keys` are in the report's order.
    sorted: bool,
}

/// Bytes written to stdout at a time: a host's many rows in few writes.
const WRITE_BUFFER: usize = 64 << 10;

/// Bytes of cell text a row of an inet socket takes, about: enough that the buffer is sized once.
const ROW_BYTES: usize = 64;

impl PlainRows {
    /// Room for about `rows` rows.
    pub fn with_capacity(rows: usize) -> PlainRows {
        PlainRows {
            columns: Columns::with_capacity(&COLUMNS, rows * ROW_BYTES),
            keys: Vec::with_capacity(rows),
            v6: Vec::new(),
            inodes: Vec::with_capacity(rows),
            sorted: true,
        }
    }
}

/// The LOCAL column, which orders Unix sockets (they have no address).
const LOCAL: usize = 2;
/// The PEER column.
const PEER: usize = 3;
/// The OWNER column, filled when written.
const OWNER: usize = 6;
/// The NOTE column.
const NOTE: usize = 10;
/// The columns whose cells may carry text from outside (a Unix socket's path in LOCAL or PEER; NOTE, so that no
/// note need be checked for what it quotes): the others are names and numbers written here, which need no
/// escaping, and escaping every cell showed in the profile.
const OUTSIDE: [usize; 3] = [LOCAL, PEER, NOTE];

impl PlainRows {
    /// Keeps a row's cells, escaped whole: a socket path is one line even when it holds a newline.
    pub fn push(&mut self, row: &SocketRow) {
        self.columns.push_with(COLUMNS.len(), |column, out| {
            if column == OWNER {
                return;
            }
            let start = out.len();
            write_cell(row, column, out);
            if OUTSIDE.contains(&column)
                && let Cow::Owned(escaped) = text::escape(&out[start..])
            {
                out.truncate(start);
                out.push_str(&escaped);
            }
        });
        let (family, addr) = match row.local_addr {
            None => (0, 0),
            Some(std::net::SocketAddr::V4(a)) => (1, u64::from(a.ip().to_bits()) << 16 | u64::from(a.port())),
            Some(std::net::SocketAddr::V6(a)) => {
                self.v6.push((a.ip().octets(), a.port()));
                (2, (self.v6.len() - 1) as u64)
            }
        };
        self.keys.push(Key {
            addr,
            row: self.keys.len() as u32,
            rank: model::rank(row.proto, row.state),
            family,
        });
        self.sorted = false;
        // Inodes come from the kernel as 32 bits.
        self.inodes.push(row.inode as u32);
    }

    /// Rows of sockets some process holds whose owner this user could not see: none when every process could be
    /// looked into.
    pub fn owners_hidden(&self, owners: &Owners) -> u32 {
        if owners.hidden_processes == 0 {
            return 0;
        }
        let hidden = self
            .inodes
            .iter()
            .filter(|&&i| i != 0 && !owners.holds(u64::from(i)));
        hidden.count() as u32
    }

    /// Puts the rows in the report's order (protocol, state, local end), which needs no owner: done while the
    /// /proc walk still runs, it leaves less for the one thread that writes.
    pub fn sort(&mut self) {
        if self.sorted {
            return;
        }
        let (columns, v6) = (&self.columns, &self.v6);
        self.keys.sort_unstable_by(|a, b| {
            (a.rank, a.family)
                .cmp(&(b.rank, b.family))
                .then_with(|| match a.family {
                    0 => {
                        let local = |row: u32| columns.row(row as usize).nth(LOCAL);
                        local(a.row).cmp(&local(b.row))
                    }
                    1 => a.addr.cmp(&b.addr),
                    _ => v6[a.addr as usize].cmp(&v6[b.addr as usize]),
                })
                .then(a.row.cmp(&b.row))
        });
        self.sorted = true;
    }

    /// Writes the rows in the report's order (protocol, state, local end) with their owners, then the report's
    /// closing notes.
    pub fn write(&mut self, report: &SocketsReport, owners: &Owners, out: &mut dyn Write) -> io::Result<()> {
        let cells = OwnerCells::new(owners, std::mem::take(&mut self.inodes));
        self.columns.widen(OWNER, cells.widest);
        self.sort();
        let columns = &self.columns;
        let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
        if !self.keys.is_empty() {
            let order = self.keys.iter().map(|k| k.row as usize);
            let mut owner_of = |row: usize, line: &mut String| line.push_str(cells.of(row));
            columns.write_with(order, OWNER, &mut owner_of, &mut out)?;
        }
        for note in report.closing_notes() {
            writeln!(out, "# {}", text::escape(&note))?;
        }
        out.flush()
    }
}

/// The OWNER cell of every row, escaped, found once: most rows name one process, whose cell is shared; the few
/// sockets several processes hold get a cell of their own.
struct OwnerCells {
    /// Per row: 0 none, `1 + i` the cell of process `i`, `SHARED | j` the j-th shared cell.
    ids: Vec<u32>,
    processes: Vec<Option<String>>,
    shared: Vec<String>,
    widest: usize,
}

const SHARED: u32 = 1 << 31;

impl OwnerCells {
    /// The cells of the rows with these inodes; the row's id takes its inode's place.
    fn new(owners: &Owners, mut inodes: Vec<u32>) -> OwnerCells {
        let mut cells = OwnerCells {
            ids: Vec::new(),
            processes: Vec::new(),
            shared: Vec::new(),
            widest: 0,
        };
        for slot in inodes.iter_mut() {
            let inode = *slot;
            *slot = match owners.holders(u64::from(inode)) {
                Holders::None => 0,
                Holders::One(process) => {
                    let i = process as usize;
                    if cells.processes.len() <= i {
                        cells.processes.resize(i + 1, None);
                    }
                    if cells.processes[i].is_none() {
                        let cell = text::escape(owners.process_cell(process)).into_owned();
                        cells.widest = cells.widest.max(UnicodeWidthStr::width(cell.as_str()));
                        cells.processes[i] = Some(cell);
                    }
                    1 + process
                }
                Holders::Several => {
                    let cell = text::escape(&owners.cell(u64::from(inode))).into_owned();
                    cells.widest = cells.widest.max(UnicodeWidthStr::width(cell.as_str()));
                    cells.shared.push(cell);
                    SHARED | (cells.shared.len() - 1) as u32
                }
            };
        }
        cells.ids = inodes;
        cells
    }

    fn of(&self, row: usize) -> &str {
        match self.ids[row] {
            0 => "",
            id if id & SHARED != 0 => &self.shared[(id & !SHARED) as usize],
            id => self.processes[(id - 1) as usize].as_deref().unwrap_or(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::wire::UnixSocket;

    #[test]
    fn a_socket_path_from_outside_is_written_escaped_on_one_line() {
        let socket = UnixSocket {
            kind: libc::SOCK_STREAM as u8,
            state: 10,
            inode: 7,
            path: Some("/run/x\x1b[2J\nfake row".into()),
            peer_inode: None,
            recv_q: Some(0),
            send_q: Some(5),
            uid: Some(0),
        };
        let mut rows = PlainRows::with_capacity(1);
        rows.push(&model::unix_row(socket, &Owners::default()));
        let report = SocketsReport::empty();
        let mut out = Vec::new();
        rows.write(&report, &Owners::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(!text.contains('\x1b'), "{text}");
        assert!(lines[1].contains("/run/x\\x1b[2J\\nfake row"), "{text}");
        assert!(lines[1].starts_with("unix/stream  LISTEN"), "{text}");
    }
}
