//! mitmdump 11 as a live peer: the same clients through it and through
//! Waylay, for tests that compare what each does on the wire.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// mitmdump as a live proxy on an ephemeral port, stopped with SIGINT.
pub struct Mitmdump {
    child: Child,
    /// `http://ADDR`.
    pub url: String,
    /// Where it listens.
    pub addr: String,
}

impl Mitmdump {
    /// Starts `mitmdump ARGS` with its CA in `confdir`.
    pub fn start(python: &Path, confdir: &Path, args: &[String]) -> Mitmdump {
        let mut child = Command::new(python.with_file_name("mitmdump"))
            .args(["--listen-host", "127.0.0.1", "-p", "0", "--set"])
            .arg(format!("confdir={}", confdir.display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                let at = l.find(" listening at ")?;
                Some(l[at + 14..].trim_end_matches('.').to_owned())
            })
            .expect("mitmdump starts listening");
        // Keep reading so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Mitmdump {
            child,
            url: format!("http://{addr}"),
            addr,
        }
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Mitmdump {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
