//! `paddock serve` as a real process, for the tests that need one (settings, logs,
//! several nodes, a crash): started on a known address, stopped by its PID when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Served {
    child: Child,
    pub stderr: PathBuf,
    /// `http://ADDRESS`.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts `paddock ARGS` on a database of its own (a SQLite file in a temporary
    /// directory) with `envs`, and waits until `address` answers.
    pub fn start(args: &[&str], envs: &[(&str, &str)], address: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("serve.db");
        Self::start_on(db.to_str().unwrap(), args, envs, address, dir)
    }

    /// `paddock --database DB serve --listen ADDRESS EXTRA`: one node on a shared
    /// database.
    pub fn node(db: &str, address: &str, extra: &[&str]) -> Self {
        let mut args = vec!["serve", "--listen", address];
        args.extend_from_slice(extra);
        Self::start_on(db, &args, &[], address, tempfile::tempdir().unwrap())
    }

    fn start_on(
        db: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        address: &str,
        dir: tempfile::TempDir,
    ) -> Self {
        let stderr = dir.path().join("stderr.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_paddock"));
        command
            .arg("--database")
            .arg(db)
            .args(args)
            .env_remove("PADDOCK_DATABASE_URL")
            .env_remove("PADDOCK_LISTEN")
            .env_remove("PADDOCK_LOG_FORMAT")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (name, value) in envs {
            command.env(name, value);
        }
        let served = Self {
            child: command.spawn().unwrap(),
            stderr,
            base: format!("http://{address}"),
            _dir: dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nothing answers on {address}: {}",
                served.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        served
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory in bytes (Linux's `VmRSS`), or `None` once it
    /// has exited.
    pub fn resident_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// `kill -9`: no shutdown, nothing flushed.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// A loopback address nothing listens on right now.
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}
