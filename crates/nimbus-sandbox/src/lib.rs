//! Linux execution environments for Nimbus: namespaces, a private read-only root, cgroups v1
//! and v2, a disk-backed `/tmp`, the spawner process and the in-sandbox init.
//!
//! This is the only crate of the workspace with `unsafe` code; it lives in [`sys`] and
//! [`protocol`] (descriptor passing) with a SAFETY note on every block.
//!
//! Flow: the platform calls [`Sandboxes::start`] at start-up (before any thread exists). A
//! background thread keeps a few empty sandboxes ready; [`Sandboxes::launch`] turns one into a
//! function's execution environment and returns the descriptors the platform serves (Runtime
//! API listener, log pipe, control socket). See ARCHITECTURE.md for the whole picture.

pub mod cgroup;
pub mod etc;
pub mod protocol;
mod sandboxes;
pub mod scratch;
pub mod seccomp;
mod shell;
pub mod spawner;
pub mod sys;

pub use sandboxes::{
    EnvHandle, InsidePaths, LaunchSpec, Launched, NOFILE_MAX, PIDS_MAX, POOL_SIZE_MAX, Protections,
    RUNTIME_GID, RUNTIME_UID, SandboxConfig, Sandboxes,
};
pub use spawner::{SPAWNER_ARG, spawner_main};
