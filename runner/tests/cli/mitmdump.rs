//! mitmdump 11 as a live peer: the same clients through it and through
//! Waylay, for tests that compare what each does on the wire.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// mitmdump as a live proxy on an ephemeral port, stopped with SIGINT.
pub struct Mitmdump {
    child: Child,
    /// Every line it printed.
    printed: Arc<Mutex<Vec<String>>>,
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
        let mut before = Vec::new();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                let addr = l
                    .find(" listening at ")
                    .map(|at| l[at + 14..].trim_end_matches('.').to_owned());
                before.push(l);
                addr
            })
            .expect("mitmdump starts listening");
        // Keep reading so it never blocks on a full pipe.
        let printed = Arc::new(Mutex::new(before));
        let keep = printed.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep.lock().unwrap().push(line);
            }
        });
        Mitmdump {
            child,
            printed,
            url: format!("http://{addr}"),
            addr,
        }
    }

    /// Lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.printed.lock().unwrap().clone()
    }

    /// SIGINT, as Ctrl-C sends it; once it has exited, every line it
    /// printed.
    pub fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        // The reading thread takes the last lines.
        std::thread::sleep(std::time::Duration::from_millis(100));
        self.lines()
    }
}

impl Drop for Mitmdump {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
