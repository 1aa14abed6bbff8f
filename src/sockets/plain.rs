//! The rows of one look written as plain columns: each row's cells go into one buffer of text as the kernel is
//! read, with a small sort key, and come out in the report's order once the widths and the owners are known.

use std::cmp::Ordering;
use std::io::{self, Write};

use super::model::{self, SocketRow};
use super::report::{COLUMNS, SocketsReport, row_cells};
use crate::inventory::owners::Owners;
use crate::render::plain::Columns;
use crate::text;

/// Where a row sorts, in 24 bytes: the protocol and state rank, then the local address (family 0 for Unix
/// sockets, which then sort by their LOCAL text), then the order the kernel gave.
#[derive(Debug, Clone, Copy)]
struct Key {
    rank: u8,
    family: u8,
    ip: [u8; 16],
    port: u16,
    row: u32,
}

/// Where a row's cells, its sort key and its inode are kept. The owner cell is made when written, from the inode:
/// a process name per row would be a fifth of the text.
pub struct PlainRows {
    columns: Columns,
    keys: Vec<Key>,
    inodes: Vec<u32>,
}

/// Bytes of cell text a row of an inet socket takes, about: enough that the buffer is sized once.
const ROW_BYTES: usize = 64;

impl PlainRows {
    /// Room for about `rows` rows.
    pub fn with_capacity(rows: usize) -> PlainRows {
        PlainRows {
            columns: Columns::with_capacity(&COLUMNS, rows * ROW_BYTES),
            keys: Vec::with_capacity(rows),
            inodes: Vec::with_capacity(rows),
        }
    }
}

/// The LOCAL column, which orders Unix sockets (they have no address).
const LOCAL: usize = 2;
/// The OWNER column, filled when written.
const OWNER: usize = 6;

impl PlainRows {
    /// Keeps a row's cells, escaped whole: a socket path is one line even when it holds a newline.
    pub fn push(&mut self, row: &SocketRow) {
        let cells = row_cells(row);
        self.columns.push(cells.iter().enumerate().map(|(i, c)| {
            if i == OWNER {
                "".into()
            } else {
                text::escape(&c.text)
            }
        }));
        let (family, ip, port) = match row.local_addr {
            None => (0, [0; 16], 0),
            Some(std::net::SocketAddr::V4(a)) => {
                let mut ip = [0; 16];
                ip[..4].copy_from_slice(&a.ip().octets());
                (1, ip, a.port())
            }
            Some(std::net::SocketAddr::V6(a)) => (2, a.ip().octets(), a.port()),
        };
        self.keys.push(Key {
            rank: model::rank(row.proto, row.state),
            family,
            ip,
            port,
            row: self.keys.len() as u32,
        });
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

    /// Writes the rows in the report's order (protocol, state, local end) with their owners, then the report's
    /// closing notes.
    pub fn write(&mut self, report: &SocketsReport, owners: &Owners, out: &mut dyn Write) -> io::Result<()> {
        let owner_of = |row: usize| text::escape(&owners.cell(u64::from(self.inodes[row]))).into_owned();
        let widest = (0..self.inodes.len())
            .map(|row| {
                unicode_width::UnicodeWidthStr::width(&*text::escape(
                    &owners.cell(u64::from(self.inodes[row])),
                ))
            })
            .max()
            .unwrap_or(0);
        self.columns.widen(OWNER, widest);
        let columns = &self.columns;
        self.keys.sort_unstable_by(|a, b| {
            (a.rank, a.family, a.ip, a.port)
                .cmp(&(b.rank, b.family, b.ip, b.port))
                .then_with(|| {
                    if a.family != 0 {
                        return Ordering::Equal;
                    }
                    let local = |row: u32| columns.row(row as usize).nth(LOCAL);
                    local(a.row).cmp(&local(b.row))
                })
                .then(a.row.cmp(&b.row))
        });
        let mut out = io::BufWriter::new(out);
        if !self.keys.is_empty() {
            let order = self.keys.iter().map(|k| k.row as usize);
            columns.write_with(order, OWNER, &owner_of, &mut out)?;
        }
        for note in report.closing_notes() {
            writeln!(out, "# {}", text::escape(&note))?;
        }
        out.flush()
    }
}
