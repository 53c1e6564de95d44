//! Managed runtimes: which host interpreter runs `python3.x` / `nodejs*` functions, the
//! bootstraps Nimbus ships inside its binary, and the command line and environment each
//! runtime starts with.
//!
//! Interpreters are found once per runtime identifier and cached. We always exec the real
//! ELF binary (never a shell shim such as pyenv's, which costs ~100 ms per start) and never
//! pass the host environment through (one inherited `NODE_EXTRA_CA_CERTS` costs node ~38 ms).
//! When the exact version is missing, the nearest installed one is used and `INIT_START` says
//! so.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Python bootstrap shipped with Nimbus (stdlib only).
pub const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
/// The Node.js bootstrap shipped with Nimbus (no dependencies).
pub const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.js");
/// Path of the Python bootstrap under the runtime directory.
pub const PYTHON_BOOTSTRAP_PATH: &str = "python/bootstrap.py";
/// Path of the Node bootstrap under the runtime directory.
pub const NODE_BOOTSTRAP_PATH: &str = "node/bootstrap.js";

/// Longest an interpreter may take to print its version when probed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most entries scanned per search directory when looking for interpreters.
const SCAN_ENTRIES_MAX: usize = 4096;

pub use nimbus_api::runtimes::RuntimeFamily as Family;

/// The family of a runtime identifier this platform runs (`None` for anything else).
pub fn family_of(runtime: &str) -> Option<Family> {
    nimbus_api::runtimes::SupportedRuntime::parse(runtime).map(|r| r.family())
}

/// A host interpreter chosen for a runtime identifier.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// Absolute, canonical path of the ELF executable.
    pub path: PathBuf,
    /// Its version, e.g. `3.12.1` or `20.20.2`.
    pub version: String,
    /// Host directories the sandbox must show read-only for it to run (outside `/usr`).
    pub mounts: Vec<PathBuf>,
    /// Set when the requested version is not installed and this is the nearest one.
    pub substitute_for: Option<String>,
    /// Python: the bootstrap precompiled for this interpreter, relative to the runtime
    /// directory (a script run directly is recompiled on every cold start: 5–11 ms).
    pub bootstrap: Option<String>,
}

/// Why a runtime cannot start on this host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    /// No interpreter of that family is installed (nor configured).
    #[error(
        "no {0} interpreter found on this host; install one or set its path in the [runtimes] settings"
    )]
    NotInstalled(String),
    /// A configured or found interpreter does not work.
    #[error("interpreter {path} for {runtime} is unusable: {reason}")]
    Unusable {
        /// Runtime identifier.
        runtime: String,
        /// Interpreter path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Finds and caches interpreters.
pub struct RuntimeCatalog {
    overrides: BTreeMap<String, PathBuf>,
    runtime_dir: PathBuf,
    search_home: Vec<PathBuf>,
    cache: Mutex<HashMap<Family, Result<Arc<Interpreter>, RuntimeError>>>,
}

impl RuntimeCatalog {
    /// `overrides` maps a runtime identifier (`python3.12`, `nodejs20.x`) to an interpreter
    /// path; everything else is discovered in the usual install locations.
    /// `runtime_dir` holds the installed bootstraps (see [`install_bootstraps`]).
    pub fn new(overrides: BTreeMap<String, PathBuf>, runtime_dir: PathBuf) -> Self {
        let mut search_home = Vec::new();
        if let Some(home) = std::env::var_os("HOME") {
            search_home.push(PathBuf::from(home));
        }
        search_home.push(PathBuf::from("/root"));
        Self {
            overrides,
            runtime_dir,
            search_home,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The interpreter for `runtime` (`None` for `provided*`). Blocking on first use (it runs
    /// the interpreter once to learn its version); cached afterwards.
    pub fn interpreter(&self, runtime: &str) -> Result<Option<Arc<Interpreter>>, RuntimeError> {
        let Some(family) = family_of(runtime) else {
            return Err(RuntimeError::NotInstalled(runtime.to_string()));
        };
        if family == Family::Provided {
            return Ok(None);
        }
        if let Ok(cache) = self.cache.lock()
            && let Some(found) = cache.get(&family)
        {
            return found.clone().map(Some);
        }
        let found = self
            .find(runtime, family)
            .map(|mut i| {
                if let Family::Python { .. } = family {
                    i.bootstrap = precompile_bootstrap(&i, &self.runtime_dir);
                }
                i
            })
            .map(Arc::new);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(family, found.clone());
        }
        found.map(Some)
    }

    fn find(&self, runtime: &str, family: Family) -> Result<Interpreter, RuntimeError> {
        if let Some(path) = self.overrides.get(runtime) {
            return probe(runtime, family, path, None);
        }
        let candidates = match family {
            Family::Python { .. } => self.python_candidates(),
            Family::Node { .. } => self.node_candidates(),
            Family::Provided => Vec::new(),
        };
        let wanted = match family {
            Family::Python { minor } => u32::from(minor),
            Family::Node { major } => u32::from(major),
            Family::Provided => 0,
        };
        // Exact version first, else the nearest (ties go to the newer one).
        let mut best: Option<(u32, u32, PathBuf)> = None;
        for (version, path) in candidates {
            let distance = version.abs_diff(wanted);
            let better = match &best {
                None => true,
                Some((d, v, _)) => distance < *d || (distance == *d && version > *v),
            };
            if better {
                best = Some((distance, version, path));
            }
        }
        let Some((distance, _, path)) = best else {
            return Err(RuntimeError::NotInstalled(runtime.to_string()));
        };
        let substitute = (distance != 0).then(|| runtime.to_string());
        probe(runtime, family, &path, substitute)
    }

    /// (minor, path) of every python3.N ELF found.
    fn python_candidates(&self) -> Vec<(u32, PathBuf)> {
        let mut dirs = vec![PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")];
        for home in &self.search_home {
            for version_dir in list_dir(&home.join(".pyenv/versions")) {
                dirs.push(version_dir.join("bin"));
            }
        }
        for opt in list_dir(Path::new("/opt")) {
            dirs.push(opt.join("bin"));
        }
        let mut found = Vec::new();
        for dir in dirs {
            for entry in list_dir(&dir) {
                let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(minor) = name.strip_prefix("python3.").and_then(|m| m.parse().ok()) else {
                    continue;
                };
                if let Some(real) = real_elf(&entry) {
                    found.push((minor, real));
                }
            }
        }
        found
    }

    /// (major, path) of every node ELF found.
    fn node_candidates(&self) -> Vec<(u32, PathBuf)> {
        let mut paths = vec![
            PathBuf::from("/usr/bin/node"),
            PathBuf::from("/usr/local/bin/node"),
        ];
        for home in &self.search_home {
            for version_dir in list_dir(&home.join(".nvm/versions/node")) {
                paths.push(version_dir.join("bin/node"));
            }
        }
        for opt in list_dir(Path::new("/opt")) {
            paths.push(opt.join("bin/node"));
        }
        let mut found = Vec::new();
        for path in paths {
            let Some(real) = real_elf(&path) else {
                continue;
            };
            if let Ok(version) = run_probe(&real, &["--version"])
                && let Some(major) = version
                    .trim()
                    .trim_start_matches('v')
                    .split('.')
                    .next()
                    .and_then(|m| m.parse().ok())
            {
                found.push((major, real));
            }
        }
        found
    }
}

fn list_dir(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .take(SCAN_ENTRIES_MAX)
            .map(|e| e.path())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The canonical path of `path` when it is an executable ELF file (not a script or shim).
fn real_elf(path: &Path) -> Option<PathBuf> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return None;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(&real)
        .ok()?
        .read_exact(&mut magic)
        .ok()?;
    (magic == *b"\x7fELF").then_some(real)
}

/// Runs an interpreter with a clean environment and returns its stdout.
fn run_probe(path: &Path, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(path)
        .args(args)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("timed out".to_string());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Learns an interpreter's version and install prefix.
fn probe(
    runtime: &str,
    family: Family,
    path: &Path,
    substitute_for: Option<String>,
) -> Result<Interpreter, RuntimeError> {
    let unusable = |reason: String| RuntimeError::Unusable {
        runtime: runtime.to_string(),
        path: path.to_path_buf(),
        reason,
    };
    let real = real_elf(path).ok_or_else(|| unusable("not an executable ELF file".into()))?;
    let (version, prefix) = match family {
        Family::Python { .. } => {
            let out = run_probe(
                &real,
                &[
                    "-S",
                    "-c",
                    "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.base_prefix)",
                ],
            )
            .map_err(unusable)?;
            let mut lines = out.lines();
            let version = lines.next().unwrap_or_default().trim().to_string();
            let prefix = PathBuf::from(lines.next().unwrap_or_default().trim());
            (version, prefix)
        }
        Family::Node { .. } => {
            let out = run_probe(&real, &["--version"]).map_err(unusable)?;
            let version = out.trim().trim_start_matches('v').to_string();
            // <prefix>/bin/node
            let prefix = real
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            (version, prefix)
        }
        Family::Provided => (String::new(), PathBuf::new()),
    };
    if version.is_empty() {
        return Err(unusable("could not read its version".into()));
    }
    // /usr is always visible in the sandbox; anything else (pyenv, /opt) is mounted.
    let mut mounts = Vec::new();
    if !prefix.as_os_str().is_empty() && !prefix.starts_with("/usr") && prefix != Path::new("/") {
        mounts.push(prefix.clone());
    }
    if !real.starts_with("/usr")
        && !mounts.iter().any(|m| real.starts_with(m))
        && let Some(dir) = real.parent()
    {
        mounts.push(dir.to_path_buf());
    }
    Ok(Interpreter {
        path: real,
        version,
        mounts,
        substitute_for,
        bootstrap: None,
    })
}

/// Compiles the Python bootstrap with `interpreter` into the runtime directory; `None` (run
/// the source) if that fails for any reason.
fn precompile_bootstrap(interpreter: &Interpreter, runtime_dir: &Path) -> Option<String> {
    let tag = interpreter.version.replace('.', "_");
    let rel = format!("python/bootstrap.{tag}.pyc");
    let source = runtime_dir.join(PYTHON_BOOTSTRAP_PATH);
    let target = runtime_dir.join(&rel);
    let script =
        "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)";
    let args = ["-S", "-c", script, source.to_str()?, target.to_str()?];
    match run_probe(&interpreter.path, &args) {
        Ok(_) if target.exists() => Some(rel),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(interpreter = %interpreter.path.display(), error = %e, "could not precompile the Python bootstrap");
            None
        }
    }
}

/// The `INIT_START` runtime description, e.g. `python:3.12.v1` and an ARN-shaped id.
pub fn runtime_version_line(
    runtime: &str,
    interpreter: Option<&Interpreter>,
    region: &str,
) -> String {
    let (name, detail) = match (family_of(runtime), interpreter) {
        (Some(Family::Python { .. }), Some(i)) => ("python", i.version.clone()),
        (Some(Family::Node { .. }), Some(i)) => ("nodejs", i.version.clone()),
        _ => (
            "provided",
            runtime
                .trim_start_matches("provided")
                .trim_start_matches('.')
                .to_string(),
        ),
    };
    let detail = if detail.is_empty() {
        "al1".to_string()
    } else {
        detail
    };
    let mut hasher = Sha256::new();
    hasher.update(runtime.as_bytes());
    if let Some(i) = interpreter {
        hasher.update(i.path.as_os_str().as_encoded_bytes());
        hasher.update(i.version.as_bytes());
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut line = format!(
        "Runtime Version: {name}:{detail}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:{hex}"
    );
    if let Some(i) = interpreter
        && let Some(requested) = &i.substitute_for
    {
        line.push_str(&format!(
            "\tNote: {requested} is not installed on this host; using the nearest, {} at {}",
            i.version,
            i.path.display()
        ));
    }
    line
}

/// Writes the embedded bootstraps into `dir` (shown read-only at `/var/runtime`).
pub fn install_bootstraps(dir: &Path) -> std::io::Result<()> {
    for (rel, body) in [
        (PYTHON_BOOTSTRAP_PATH, PYTHON_BOOTSTRAP),
        (NODE_BOOTSTRAP_PATH, NODE_BOOTSTRAP),
    ] {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension("partial");
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_parse() {
        assert_eq!(family_of("python3.14"), Some(Family::Python { minor: 14 }));
        assert_eq!(family_of("nodejs22.x"), Some(Family::Node { major: 22 }));
        assert_eq!(family_of("provided.al2023"), Some(Family::Provided));
        assert_eq!(family_of("java21"), None);
        assert_eq!(family_of("nodejs22"), None);
    }

    #[test]
    fn finds_a_python_and_prefers_the_exact_minor() {
        let dir = tempfile::tempdir().expect("tempdir");
        install_bootstraps(dir.path()).expect("install");
        let catalog = RuntimeCatalog::new(BTreeMap::new(), dir.path().to_path_buf());
        let py = catalog
            .interpreter("python3.11")
            .expect("a python 3 is installed on CI hosts")
            .expect("managed runtime");
        assert!(py.version.starts_with("3.11."), "got {}", py.version);
        assert!(py.substitute_for.is_none());
        // 3.14 is not installed on CI hosts: it resolves to the nearest and says so.
        let near = catalog
            .interpreter("python3.14")
            .expect("nearest")
            .expect("managed");
        if !near.version.starts_with("3.14.") {
            assert_eq!(near.substitute_for.as_deref(), Some("python3.14"));
            let line = runtime_version_line("python3.14", Some(&near), "us-east-1");
            assert!(line.contains("python3.14 is not installed"), "{line}");
        }
    }

    #[test]
    fn shims_are_never_chosen() {
        // pyenv's shim is a bash script: it must be rejected as an interpreter.
        let dir = tempfile::tempdir().expect("tempdir");
        let shim = dir.path().join("python3.12");
        std::fs::write(&shim, "#!/bin/bash\nexec python3 \"$@\"\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(real_elf(&shim).is_none());
        let mut overrides = BTreeMap::new();
        overrides.insert("python3.12".to_string(), shim);
        let catalog = RuntimeCatalog::new(overrides, dir.path().to_path_buf());
        assert!(matches!(
            catalog.interpreter("python3.12"),
            Err(RuntimeError::Unusable { .. })
        ));
    }
}
