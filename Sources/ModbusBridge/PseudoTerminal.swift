import Foundation
import Glibc

/// A pseudo-terminal pair that stands in for a serial line.
///
/// A server reads and writes the master side; clients open `path` (the slave side,
/// `/dev/pts/N`) as they would `/dev/ttyUSB0`. The pair keeps its own descriptor on the
/// slave open, so clients may come and go without the master seeing a hang-up.
public final class PseudoTerminal: @unchecked Sendable {
    /// The device clients open, e.g. `/dev/pts/3`.
    public let path: String
    /// The master side, read and written by the server.
    let master: Int32
    private let slaveKeepAlive: Int32
    private var links: [String] = []
    private let lock = NSLock()

    /// Opens a new pseudo-terminal in raw mode.
    public init() throws(ModbusError) {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else {
            throw ModbusError.fromErrno(errno, operation: "open pseudo-terminal")
        }
        var name = [CChar](repeating: 0, count: 128)
        guard ttyname_r(slave, &name, name.count) == 0 else {
            let code = errno
            Glibc.close(master)
            Glibc.close(slave)
            throw ModbusError.fromErrno(code, operation: "name pseudo-terminal")
        }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var attributes = termios()
        tcgetattr(slave, &attributes)
        cfmakeraw(&attributes)
        tcsetattr(slave, TCSANOW, &attributes)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        self.master = master
        self.slaveKeepAlive = slave
        self.path = path
    }

    deinit {
        removeLinks()
        Glibc.close(slaveKeepAlive)
        Glibc.close(master)
    }

    /// Makes `linkPath` a symbolic link to `path`, as socat's `link=` option does. An
    /// existing symbolic link there is replaced; any other file is left alone and reported.
    public func link(at linkPath: String) throws(ModbusError) {
        let operation = "create link \(linkPath) -> \(path)"
        var status = stat()
        if lstat(linkPath, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFLNK else {
                throw ModbusError(
                    kind: .invalidArgument,
                    errno: EEXIST,
                    message: "\(linkPath) exists and is not a symbolic link; remove it or choose another path",
                    operation: operation
                )
            }
            unlink(linkPath)
        }
        guard symlink(path, linkPath) == 0 else { throw ModbusError.fromErrno(errno, operation: operation) }
        lock.withLock { links.append(linkPath) }
    }

    /// Removes the links this pseudo-terminal made, if they still point to it.
    public func removeLinks() {
        let made = lock.withLock {
            defer { links.removeAll() }
            return links
        }
        for link in made {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link), target == path {
                unlink(link)
            }
        }
    }
}
