import Glibc

/// A plain TCP connection to 127.0.0.1 that sends exactly what a test says, when it says so:
/// a client that stalls, trickles a header or a body, or holds a connection open. Nothing
/// blocks: `poll()` reads what has arrived and notes whether the server closed.
package final class RawConnection {
    private let fd: Int32
    /// Everything the server sent so far.
    package private(set) var received: [UInt8] = []
    /// The server closed the connection (or reset it).
    package private(set) var closed = false

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    package init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(error)")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends `text`; false once the server has closed the connection.
    @discardableResult
    package func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { closed = true }
        return sent == bytes.count
    }

    /// Reads whatever has arrived, without waiting; notes a close.
    package func poll() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !closed {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                closed = true
            } else {
                return
            }
        }
    }

    /// What the server sent, as text.
    package var text: String { String(decoding: received, as: UTF8.self) }
}
