//! Keeping keyrack's short-lived processes small and quick: no transparent huge pages.

/// Turn off transparent huge pages for this process. The allocator asks for huge pages, and the
/// kernel zeroes each 2 MiB page in full when it is first touched: for a command that runs for
/// milliseconds that is most of its time and memory (`keyrack set` on 2,000 profiles measured
/// 20–110 ms and 46–50 MB with them, 10–20 ms and 13 MB without).
pub fn turn_off() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn after_the_call_the_process_has_huge_pages_turned_off() {
        super::turn_off();
        // SAFETY: PR_GET_THP_DISABLE takes plain integers and returns the flag.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) },
            1
        );
    }
}
