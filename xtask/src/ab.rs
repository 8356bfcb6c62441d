//! `--against REV`: the runner as another commit built it, beside the
//! working tree's in the same run, so that a ratio shows what a change did.
//! REV's tree is unpacked with `git archive` under `target/ab/src-SHA`
//! (no worktree is registered) and built into `target/ab/target`, apart
//! from the working tree's build.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::util::{root, run};

/// One runner under test: what the rows call it, its binary, and the
/// checkout whose examples it runs.
#[derive(Clone, Debug)]
pub struct Variant {
    pub label: String,
    pub runner: PathBuf,
    pub checkout: PathBuf,
}

impl Variant {
    /// The working tree's runner (`cargo build --release -p runner`).
    pub fn working_tree() -> Result<Variant> {
        crate::util::cargo(&["build", "--release", "-p", "runner"])?;
        Ok(Variant {
            label: "working tree".into(),
            runner: root().join("target/release/runner"),
            checkout: root(),
        })
    }

    /// The runner of commit `rev`, built if it is not yet.
    pub fn at(rev: &str) -> Result<Variant> {
        let out = Command::new("git")
            .args(["rev-parse", "--verify", "--short=12"])
            .arg(format!("{rev}^{{commit}}"))
            .current_dir(root())
            .output()
            .context("cannot run git")?;
        if !out.status.success() {
            bail!(
                "--against {rev}: not a commit here ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let sha = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let ab = root().join("target/ab");
        let src = ab.join(format!("src-{sha}"));
        if !src.join("Cargo.toml").exists() {
            std::fs::create_dir_all(&src)?;
            let archive = ab.join(format!("{sha}.tar"));
            run(Command::new("git")
                .args(["archive", "--format=tar", "-o"])
                .arg(&archive)
                .arg(&sha))?;
            run(Command::new("tar")
                .arg("-xf")
                .arg(&archive)
                .arg("-C")
                .arg(&src))?;
            std::fs::remove_file(&archive)?;
        }
        let target = ab.join("target");
        eprintln!(
            "xtask: building the runner of {sha} into {}",
            target.display()
        );
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["build", "--release", "-p", "runner", "--manifest-path"])
                .arg(src.join("Cargo.toml"))
                .arg("--target-dir")
                .arg(&target),
        )?;
        Ok(Variant {
            label: format!("{sha} (--against)"),
            runner: target.join("release/runner"),
            checkout: src,
        })
    }

    /// The working tree's runner, and REV's after it when `args` has
    /// `--against REV`.
    pub fn from_args(args: &[&str]) -> Result<Vec<Variant>> {
        let mut variants = vec![Variant::working_tree()?];
        if let Some(rev) = crate::util::arg_text(args, "--against")? {
            variants.push(Variant::at(rev)?);
        }
        Ok(variants)
    }

    /// A script of this variant's checkout (`examples/NAME`).
    pub fn example(&self, name: &str) -> String {
        self.checkout
            .join("examples")
            .join(name)
            .display()
            .to_string()
    }
}
