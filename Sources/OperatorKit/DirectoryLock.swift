import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a data directory's lock file (DIR/gateway.lock,
/// DIR/super-node.lock): held by a server for its whole life (and by offline commands while
/// they write), so two processes never serve one directory.
public final class DirectoryLock: @unchecked Sendable {
    private let fd: Int32

    /// Tries to take the lock; nil when another process holds it.
    public init?(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OperatorError(
                "cannot open lock file \(path): \(String(cString: strerror(errno))); check the data directory is writable"
            )
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
