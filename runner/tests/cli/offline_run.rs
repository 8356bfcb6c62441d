//! [`Offline`]: one offline run (`runner -n -r … -s … -w …`) in a scratch
//! folder of its own, built a part at a time, and [`Ran`]: what it printed
//! and wrote. The cases that use it read as tables: one line each, the
//! run and what it must come to.

use std::ops::Deref;
use std::path::Path;

use waylay_proxy::Flow;

use crate::support::{Output, flows, golden, path_in, run, scratch};

/// An offline run being put together.
pub struct Offline {
    dir: tempfile::TempDir,
    args: Vec<String>,
    out: Option<String>,
}

impl Offline {
    /// `runner -n -r testdata/flows/NAME`.
    pub fn golden(name: &str) -> Offline {
        Offline::read(golden(name))
    }

    /// `runner -n -r PATH`.
    pub fn read(path: impl AsRef<Path>) -> Offline {
        Offline::new().args(&["-r", &path.as_ref().to_string_lossy()])
    }

    /// `runner -n`, reading nothing yet.
    pub fn new() -> Offline {
        Offline {
            dir: scratch(),
            args: vec!["-n".into()],
            out: None,
        }
    }

    /// `-s SCRIPT` (a crate path from the workspace root, with its argv).
    pub fn script(self, script: &str) -> Offline {
        self.args(&["-s", script])
    }

    /// `--set OPTION=VALUE`.
    pub fn set(self, option: &str) -> Offline {
        self.args(&["--set", option])
    }

    /// Other arguments, in order: `-q`, a filter expression's words.
    pub fn args(mut self, args: &[&str]) -> Offline {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// `-w` to `out.mitm` in the run's scratch folder.
    pub fn write(mut self) -> Offline {
        let out = path_in(&self.dir, "out.mitm");
        self.args.extend(["-w".into(), out.clone()]);
        self.out = Some(out);
        self
    }

    /// A path in the run's scratch folder, for inputs made on the spot.
    pub fn path(&self, name: &str) -> String {
        path_in(&self.dir, name)
    }

    /// Runs `runner` with the arguments so far.
    pub fn run(self) -> Ran {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Ran {
            output: run(&args),
            out: self.out,
            _dir: self.dir,
        }
    }
}

/// A finished run: its [`Output`] (through `Deref`), and its scratch
/// folder, kept until it is dropped.
pub struct Ran {
    output: Output,
    out: Option<String>,
    _dir: tempfile::TempDir,
}

impl Ran {
    /// Asserts that the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Ran {
        assert_eq!(self.code, 0, "{}", self.stderr);
        self
    }

    /// Asserts that the run failed (exit 1) with `line` as its error.
    #[track_caller]
    pub fn fails(self, line: &str) -> Ran {
        assert_eq!((self.code, self.error_line()), (1, line), "{}", self.stderr);
        self
    }

    /// The `-w` file's path.
    pub fn out(&self) -> &str {
        self.out.as_deref().expect("the run was built with write()")
    }

    /// The flows `-w` wrote.
    pub fn written(&self) -> Vec<Flow> {
        flows(self.out())
    }

    /// The `-w` file's bytes.
    pub fn written_bytes(&self) -> Vec<u8> {
        std::fs::read(self.out()).expect("the run wrote its -w file")
    }
}

impl Deref for Ran {
    type Target = Output;

    fn deref(&self) -> &Output {
        &self.output
    }
}
