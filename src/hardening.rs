//! Process hardening, one place for every binary (the CLI, credential-process and the app):
//! no core dumps of a process that holds keys, and no transparent huge pages for keyrack's
//! short-lived processes.

/// Call first thing in `main`: secrets never reach a core file, and a short run stays small.
pub fn harden_process() {
    forbid_core_dumps();
    turn_off_huge_pages();
}

// Keeping secrets out of crash dumps: keyrack's processes hold access keys in memory, and a
// crash (a panic aborts) must not write that memory to a core file or a crash reporter.

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
mod core_dump_tests {
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

// Keeping keyrack's short-lived processes small and quick: no transparent huge pages.

/// Turn off transparent huge pages for this process. The allocator asks for huge pages, and the
/// kernel zeroes each 2 MiB page in full when it is first touched: for a command that runs for
/// milliseconds that is most of its time and memory (`keyrack set` on 2,000 profiles measured
/// 20–110 ms and 46–50 MB with them, 10–20 ms and 13 MB without).
pub fn turn_off_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod huge_page_tests {
    #[test]
    fn after_the_call_the_process_has_huge_pages_turned_off() {
        super::turn_off_huge_pages();
        // SAFETY: PR_GET_THP_DISABLE takes plain integers and returns the flag.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) },
            1
        );
    }
}
