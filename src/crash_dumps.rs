//! Keeping secrets out of crash dumps: keyrack's processes hold access keys in memory, and a
//! crash (a panic aborts) must not write that memory to a core file or a crash reporter.

/// Set this process's core-file size limit to zero, which the kernel's own dumps and the crash
/// collectors that receive piped dumps (systemd-coredump, apport) honour. Unlike
/// `PR_SET_DUMPABLE`, the process's `/proc` files stay readable by its owner.
pub fn forbid_core_dumps() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit only reads the struct passed by reference.
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    }
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn after_the_call_the_core_file_limit_is_zero() {
        super::forbid_core_dumps();
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct passed by reference.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) }, 0);
        assert_eq!((limit.rlim_cur, limit.rlim_max), (0, 0));
    }
}
