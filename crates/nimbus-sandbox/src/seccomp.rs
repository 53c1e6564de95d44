//! The seccomp deny-list every runtime runs under (bad-inputs HF-13).
//!
//! Namespaces are not a VM boundary; the kernel's attack surface is. These system calls have
//! no use in a function and a history of kernel bugs or privilege tricks: they fail with
//! EPERM. The big one is `clone`/`unshare` with `CLONE_NEWUSER`: inside a new user namespace
//! a process has every capability again (mounts, raw sockets, …). `clone3` passes its flags in
//! memory where a filter cannot read them, so it fails with ENOSYS and libc falls back to
//! `clone`, whose flags we can check (what Docker's default profile does too).

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// System calls refused outright.
const DENIED: &[i64] = &[
    // Filesystem and namespace manipulation.
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    // Kernel keyrings, BPF, perf, userfaultfd, io_uring: large, bug-prone surfaces.
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    // Other processes' memory and kernel state.
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    // Modules, kexec, reboot, swap, clocks, accounting, quotas, kernel log.
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_settimeofday,
    libc::SYS_adjtimex,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_vhangup,
    libc::SYS_lookup_dcookie,
    libc::SYS_iopl,
    libc::SYS_ioperm,
];

/// Compiled filters, in installation order: the EPERM deny-list, then `clone3` → ENOSYS.
pub struct Filters {
    programs: Vec<BpfProgram>,
}

impl Filters {
    /// Builds the filters for the running architecture.
    pub fn build() -> Result<Self, String> {
        let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
        let mut denied: BTreeMap<i64, Vec<SeccompRule>> =
            DENIED.iter().map(|&nr| (nr, Vec::new())).collect();
        // clone(flags, …) with CLONE_NEWUSER set.
        let new_user = libc::CLONE_NEWUSER as u64;
        let condition = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(new_user),
            new_user,
        )
        .map_err(|e| e.to_string())?;
        denied.insert(
            libc::SYS_clone,
            vec![SeccompRule::new(vec![condition]).map_err(|e| e.to_string())?],
        );
        let deny = SeccompFilter::new(
            denied,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, Vec::new())].into();
        let clone3 = SeccompFilter::new(
            clone3,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(|e| e.to_string())?;
        let programs = vec![
            BpfProgram::try_from(deny).map_err(|e| e.to_string())?,
            BpfProgram::try_from(clone3).map_err(|e| e.to_string())?,
        ];
        Ok(Self { programs })
    }

    /// Installs the filters on the calling thread (needs `no_new_privs` first). They are
    /// inherited by every child and survive `execve`.
    pub fn apply(&self) -> std::io::Result<()> {
        for program in &self.programs {
            seccompiler::apply_filter(program).map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_for_this_architecture() {
        let filters = Filters::build().expect("filters");
        assert_eq!(filters.programs.len(), 2);
        assert!(filters.programs.iter().all(|p| !p.is_empty()));
    }
}
