//! `Netns`: one network namespace with its own /etc/netns files, removed (with its processes) on drop.

use std::ffi::OsStr;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use super::addr;
use super::cmd;

/// Prefix of every lab namespace name; the rest is `<pid>-<counter>`.
pub const PREFIX: &str = "sdg-";

/// Deadline for commands run in a namespace through [`Netns::run`].
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// `ip netns add/del` mount /run/netns on first use; serialising them avoids racing on that.
static NETNS_LOCK: Mutex<()> = Mutex::new(());
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The default /etc/hosts of a lab namespace: localhost only.
pub const DEFAULT_HOSTS: &str = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";

/// glibc must only use files and DNS inside the lab, never a host resolver daemon.
const NSSWITCH: &str = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n\
networks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n";

/// The default resolv.conf of a lab namespace: the lab DNS server, short timeouts.
pub fn default_resolv_conf() -> String {
    format!(
        "nameserver {}\nnameserver {}\noptions timeout:1 attempts:2\n",
        addr::LAB_DNS_V4,
        addr::LAB_DNS_V6
    )
}

/// Builder for a [`Netns`] with custom /etc/hosts or /etc/resolv.conf contents.
#[derive(Debug, Clone)]
pub struct NetnsBuilder {
    hosts: String,
    resolv_conf: String,
}

impl NetnsBuilder {
    /// Sets the namespace's /etc/hosts contents.
    pub fn hosts(mut self, text: &str) -> Self {
        self.hosts = text.to_string();
        self
    }

    /// Sets the namespace's /etc/resolv.conf contents.
    pub fn resolv_conf(mut self, text: &str) -> Self {
        self.resolv_conf = text.to_string();
        self
    }

    /// Creates the namespace, writes its /etc/netns files and brings `lo` up.
    pub fn build(self) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Base 36 keeps names within 15 characters, so they could double as interface names.
        let name = format!("{PREFIX}{}-{}", std::process::id(), base36(n));
        let mut ns = Netns {
            etc_dir: Path::new("/etc/netns").join(&name),
            name,
            added: false,
        };
        fs::create_dir_all(&ns.etc_dir).expect("create /etc/netns/NAME");
        for (file, text) in [
            ("hosts", self.hosts.as_str()),
            ("resolv.conf", self.resolv_conf.as_str()),
            ("nsswitch.conf", NSSWITCH),
        ] {
            fs::write(ns.etc_dir.join(file), text).expect("write /etc/netns file");
        }
        {
            let _guard = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            cmd::run_ok(cmd::command("ip", &["netns", "add", &ns.name]), None);
        }
        ns.added = true;
        // DAD off before any link exists, so addresses are usable at once (no tentative state).
        ns.sysctls(&[
            ("net.ipv6.conf.all.accept_dad", "0"),
            ("net.ipv6.conf.default.accept_dad", "0"),
        ]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }
}

fn base36(mut n: u32) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// A network namespace named `sdg-<pid>-<n>`; dropping it kills its processes and deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
    etc_dir: PathBuf,
    added: bool,
}

impl Default for Netns {
    fn default() -> Self {
        Self::new()
    }
}

impl Netns {
    /// A namespace with the default hosts and resolv.conf (pointing at the lab DNS server).
    pub fn new() -> Netns {
        Self::builder().build()
    }

    /// A builder to choose the namespace's /etc/hosts and /etc/resolv.conf.
    pub fn builder() -> NetnsBuilder {
        NetnsBuilder {
            hosts: DEFAULT_HOSTS.to_string(),
            resolv_conf: default_resolv_conf(),
        }
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory whose files `ip netns exec` mounts over /etc (hosts, resolv.conf, ...).
    pub fn etc_dir(&self) -> &Path {
        &self.etc_dir
    }

    /// A `Command` running `program` inside the namespace (through `ip netns exec`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `program args` inside the namespace and returns its output (killed after 30 s).
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.run_timeout(program, args, RUN_TIMEOUT)
    }

    /// Like [`Netns::run`] with an explicit deadline.
    pub fn run_timeout(&self, program: &str, args: &[&str], timeout: Duration) -> Output {
        let mut c = self.command(program);
        c.args(args);
        cmd::output_with_timeout(c, None, timeout)
    }

    /// Runs `program args` inside the namespace, panicking unless it succeeds; returns stdout.
    pub fn run_ok(&self, program: &str, args: &[&str]) -> String {
        let mut c = self.command(program);
        c.args(args);
        cmd::run_ok(c, None)
    }

    /// Starts `program args` inside the namespace; the child is killed when the handle drops.
    pub fn spawn(&self, program: &str, args: &[&str]) -> NsChild {
        let mut c = self.command(program);
        c.args(args).env("LC_ALL", "C").stdin(Stdio::null());
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot start {program} in {}: {e}", self.name));
        NsChild { child }
    }

    /// Runs `ip -n NAME args` (no mount namespace needed), panicking on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut c = Command::new("ip");
        c.args(["-n", &self.name]).args(args);
        cmd::run_ok(c, None)
    }

    /// Runs many `ip` commands in one process (`ip -n NAME -batch -`), one per line.
    pub fn ip_batch(&self, script: &str) {
        let mut c = Command::new("ip");
        c.args(["-n", &self.name, "-batch", "-"]);
        cmd::run_ok(c, Some(script.as_bytes()));
    }

    /// Loads an nftables ruleset (`nft -f -`) into this namespace only.
    pub fn nft(&self, ruleset: &str) {
        let mut c = self.command("nft");
        c.args(["-f", "-"]);
        cmd::run_ok(c, Some(ruleset.as_bytes()));
    }

    /// Sets one sysctl inside the namespace (never on the host).
    pub fn sysctl(&self, key: &str, value: &str) {
        self.sysctls(&[(key, value)]);
    }

    /// Sets several sysctls inside the namespace with one `sysctl -w` process.
    pub fn sysctls(&self, pairs: &[(&str, &str)]) {
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut c = self.command("sysctl");
        c.arg("-q").arg("-w").args(&args);
        cmd::run_ok(c, None);
    }

    /// Runs `f` on a fresh thread that has entered this namespace, and returns its result.
    ///
    /// Only the network namespace changes: /etc/netns files are not mounted for Rust code.
    pub fn enter<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        thread::scope(|s| {
            s.spawn(|| {
                enter_current_thread(&self.name);
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// Pids of processes whose network namespace is this one (our own process excluded).
    pub fn pids(&self) -> Vec<u32> {
        match netns_inode(&self.name) {
            Some(ino) => pids_in_netns(ino),
            None => Vec::new(),
        }
    }

    /// The namespace's inode (device, inode), to check after drop that nothing still holds it.
    pub fn inode(&self) -> Option<(u64, u64)> {
        netns_inode(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if self.added {
            destroy(&self.name);
        }
        let _ = fs::remove_dir_all(&self.etc_dir);
    }
}

/// Kills every process in the namespace (bounded retries), then deletes it.
fn destroy(name: &str) {
    if let Some(ino) = netns_inode(name) {
        for _ in 0..100 {
            let pids = pids_in_netns(ino);
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                // SAFETY: signalling a pid we just found inside our own lab namespace.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    let _guard = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = cmd::output_with_timeout(
        cmd::command("ip", &["netns", "del", name]),
        None,
        cmd::PLUMBING_TIMEOUT,
    );
    if !out.status.success() {
        eprintln!(
            "lab: ip netns del {name} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
}

/// Moves the calling thread into namespace `name` for good (used by lab helper threads).
pub fn enter_current_thread(name: &str) {
    let path = Path::new("/run/netns").join(name);
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("lab: open {}: {e}", path.display()));
    // SAFETY: setns on a valid namespace fd; CLONE_NEWNET only affects this thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "lab: setns into {name}: {}",
        std::io::Error::last_os_error()
    );
}

/// (device, inode) of a named namespace, as `/proc/PID/ns/net` reports it.
pub fn netns_inode(name: &str) -> Option<(u64, u64)> {
    let meta = fs::metadata(Path::new("/run/netns").join(name)).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Pids (other than ours) whose network namespace has the given (device, inode).
pub fn pids_in_netns(ino: (u64, u64)) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| (m.dev(), m.ino()) == ino))
        .collect()
}

/// Threads of this process that are still inside the namespace with the given inode.
pub fn own_threads_in_netns(ino: (u64, u64)) -> usize {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| fs::metadata(e.path().join("ns/net")).is_ok_and(|m| (m.dev(), m.ino()) == ino))
        .count()
}

/// Removes lab namespaces and /etc/netns entries left by test processes that no longer exist.
pub fn reap_stale() {
    let mut names: Vec<String> = Vec::new();
    for dir in ["/run/netns", "/etc/netns"] {
        if let Ok(rd) = fs::read_dir(dir) {
            names.extend(rd.filter_map(|e| e.ok()?.file_name().into_string().ok()));
        }
    }
    names.sort();
    names.dedup();
    for name in names {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if Path::new("/run/netns").join(&name).exists() {
            destroy(&name);
        }
        let _ = fs::remove_dir_all(Path::new("/etc/netns").join(&name));
    }
}

/// A process started in a namespace; killed and reaped when dropped.
#[derive(Debug)]
pub struct NsChild {
    child: Child,
}

impl NsChild {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The underlying `Child`, e.g. to take its pipes.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether the process has already exited.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for NsChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
