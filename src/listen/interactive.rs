//! --interactive: talk to one TCP client, as `nc -l` does. Lines typed on stdin go to the client (read on a
//! thread of their own, so the event loop never waits for the keyboard); what the client sends goes to stdout,
//! escaped when stdout is a terminal; end of stdin (Ctrl-D) half-closes the connection.

use std::cell::RefCell;
use std::io::{self, BufRead, IsTerminal, Write};

use tokio::sync::mpsc;

use super::session::{End, EndKind};
use super::tcp::{Conn, end_of};

/// Lines typed ahead that wait for the client; the stdin thread waits beyond this.
const TYPED_AHEAD: usize = 64;

/// Lines read from stdin; None at its end.
pub type Typed = mpsc::Receiver<Option<Vec<u8>>>;

/// Starts the thread reading stdin line by line.
pub fn read_stdin() -> Typed {
    let (tx, rx) = mpsc::channel(TYPED_AHEAD);
    let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => {
                    let _ = tx.blocking_send(None);
                    return;
                }
                Ok(_) => {
                    if tx.blocking_send(Some(line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    if spawned.is_err() {
        // No thread, no stdin: the client gets the end of our side at once.
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(None);
        return rx;
    }
    rx
}

impl Conn<'_> {
    /// Interactive: stdin to the client, the client to stdout, until the client closes.
    pub(super) async fn interactive(&self, typed: &RefCell<Option<Typed>>) -> End {
        let Some(mut rx) = typed.borrow_mut().take() else {
            return End::error("stdin is already given to another client");
        };
        let end = self.talk(&mut rx).await;
        *typed.borrow_mut() = Some(rx);
        end
    }

    async fn talk(&self, rx: &mut Typed) -> End {
        let terminal = io::stdout().is_terminal();
        let mut typing = true;
        loop {
            tokio::select! {
                r = self.within(self.stream.readable()) => match r.ok() {
                    None => return EndKind::IdleTimeout.into(),
                    Some(Err(e)) => return end_of(&e),
                    Some(Ok(())) => match self.to_stdout(terminal) {
                        Ok(true) => {}
                        Ok(false) => return EndKind::PeerClosed.into(),
                        Err(e) => return end_of(&e),
                    },
                },
                line = rx.recv(), if typing => match line.flatten() {
                    Some(bytes) => {
                        if let Err(end) = self.send_all(&bytes).await {
                            return end;
                        }
                    }
                    None => {
                        // Ctrl-D: our side is done; the client may still talk.
                        self.stream.shutdown_write().await;
                        typing = false;
                    }
                },
            }
        }
    }

    /// Copies what the client sent to stdout; false at its end of stream.
    fn to_stdout(&self, terminal: bool) -> io::Result<bool> {
        let mut scratch = self.shared.scratch.borrow_mut();
        let n = match self.stream.try_read(&mut scratch) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        };
        self.add_in(&scratch[..n]);
        let mut out = io::stdout().lock();
        // A terminal gets escaped text (a client must not drive it); a pipe or file gets the bytes as sent.
        let _ = if terminal {
            let text: String = super::show::text_lines(&scratch[..n])
                .iter()
                .map(|l| l.strip_suffix("\\n").map_or(l.clone(), |l| format!("{l}\n")))
                .collect();
            out.write_all(text.as_bytes())
        } else {
            out.write_all(&scratch[..n])
        };
        let _ = out.flush();
        Ok(true)
    }
}
