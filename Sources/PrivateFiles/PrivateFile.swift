#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a private key is read, whatever it signs with (a meter's or a gateway's Ed25519 key,
/// a server's TLS key): opened without following a symbolic link, and only if it belongs to
/// the user running this and group and others have no access to it (mode 0600 or 0400).
/// A link, another user's file or a file others can write could hand us a key someone else
/// chose; a file others can read is a key someone else may have.
package enum PrivateFile {
    /// The file's content, once it passed the checks above.
    /// - Parameter limit: the largest content accepted, in bytes (a key file is small).
    package static func contents(of path: String, limit: Int) throws(PrivateFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ELOOP { throw .symbolicLink(path: path) }
            throw .io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        // fstat on the descriptor: the file checked is the file read.
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard info.st_uid == geteuid() else {
            throw .notOwned(path: path, owner: UInt32(info.st_uid), user: UInt32(geteuid()))
        }
        let mode = UInt32(info.st_mode) & 0o7777
        guard mode & 0o077 == 0 else { throw .accessibleByOthers(path: path, mode: mode) }
        var content = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            content += buffer[0..<n]
            if content.count > limit { throw .tooLarge(path: path, limit: limit) }
        }
        return content
    }
}

/// Why a private file was refused. Each description names the file and the fix.
package enum PrivateFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path is a symbolic link.
    case symbolicLink(path: String)
    /// The file belongs to another user.
    case notOwned(path: String, owner: UInt32, user: UInt32)
    /// Group or others have some access to the file (`mode` is its permission bits).
    case accessibleByOthers(path: String, mode: UInt32)
    /// The file is larger than a key file can be.
    case tooLarge(path: String, limit: Int)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)

    package var description: String {
        switch self {
        case let .symbolicLink(path):
            return
                "private key file \(path) is a symbolic link; refusing to read a key through a link. Give the key file's own path"
        case let .notOwned(path, owner, user):
            return
                "private key file \(path) belongs to user \(owner), not to the user running this (\(user)); refusing to use it. Run as its owner, or `chown` it"
        case let .accessibleByOthers(path, mode):
            return
                "private key file \(path) is accessible by group or others (mode 0\(String(mode, radix: 8))); refusing to use it. Run `chmod 600 \(path)`"
        case let .tooLarge(path, limit):
            return "\(path): larger than \(limit / 1024) KiB; not a key file"
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        }
    }
}
