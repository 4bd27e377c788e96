import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The rule for a data directory (a gateway's, a super node's, a meter agent's): it belongs
/// to the user running this, and group and others cannot write to it. Whoever can write to it
/// can replace what is in it: a key, a token, a chain, an outbox of unsent readings.
package enum PrivateDirectory {
    /// Creates `path`, and any missing parent, with mode 0700.
    package static func create(_ path: String) throws(PrivateDirectoryError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .cannotCreate(path: path, reason: error.localizedDescription)
        }
    }

    /// Creates `path` (mode 0700) when it does not exist; else refuses it unless it passes
    /// `check`.
    package static func prepare(_ path: String) throws(PrivateDirectoryError) {
        var info = stat()
        if stat(path, &info) != 0, errno == ENOENT { try create(path) }
        try check(path)
    }

    /// Refuses `path` unless it is a directory the user running this owns and that group and
    /// others cannot write to.
    package static func check(_ path: String) throws(PrivateDirectoryError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .cannotInspect(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path: path) }
        guard info.st_uid == geteuid() else {
            throw .notOwned(path: path, owner: UInt32(info.st_uid), user: UInt32(geteuid()))
        }
        let mode = UInt32(info.st_mode) & 0o7777
        guard mode & 0o022 == 0 else { throw .writableByOthers(path: path, mode: mode) }
    }
}

/// Why a data directory was refused. Each description names the directory and the fix.
package enum PrivateDirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// It could not be created.
    case cannotCreate(path: String, reason: String)
    /// `stat` failed.
    case cannotInspect(path: String, errno: Int32)
    /// The path is not a directory.
    case notADirectory(path: String)
    /// It belongs to another user.
    case notOwned(path: String, owner: UInt32, user: UInt32)
    /// Group or others may write to it (`mode` is its permission bits).
    case writableByOthers(path: String, mode: UInt32)

    package var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            return
                "cannot create data directory \(path): \(reason); check the parent directory exists and is writable"
        case let .cannotInspect(path, code):
            return "cannot inspect data directory \(path): \(String(cString: strerror(code)))"
        case let .notADirectory(path):
            return "\(path) exists and is not a directory; choose another --data path"
        case let .notOwned(path, owner, user):
            return
                "data directory \(path) belongs to user \(owner), not to the user running this (\(user)); run as its owner, or choose another --data path"
        case let .writableByOthers(path, mode):
            return
                "data directory \(path) is writable by group or others (mode 0\(String(mode, radix: 8))); run `chmod 700 \(path)`"
        }
    }
}
