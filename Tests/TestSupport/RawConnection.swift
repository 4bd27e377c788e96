import Glibc

/// A plain TCP connection to 127.0.0.1 that sends exactly what a test says, when it says so:
/// a client that stalls, trickles a header or a body, or holds a connection open. Nothing
/// blocks: `poll()` reads what has arrived and notes whether the server closed.
package final class RawConnection {
    private var fd: Int32
    /// Everything the server sent so far.
    package private(set) var received: [UInt8] = []
    /// The server closed the connection (or reset it).
    package private(set) var closed = false

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    package init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
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

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Closes with a reset (SO_LINGER 0) instead of an orderly end, as a client that vanishes.
    package func reset() {
        guard fd >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
        fd = -1
    }

    /// Sends `bytes`; false once the server has closed the connection.
    @discardableResult
    package func send(bytes: [UInt8]) -> Bool {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { closed = true }
        return sent == bytes.count
    }

    /// Waits up to `timeout` until at least `count` bytes have arrived or the server closed;
    /// returns everything received so far.
    package func receive(atLeast count: Int, within timeout: Duration = .seconds(5)) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        poll()
        while received.count < count, !closed, ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&descriptor, 1, 50)
            poll()
        }
        return received
    }

    /// Sends `text`; false once the server has closed the connection.
    @discardableResult
    package func send(_ text: String) -> Bool { send(bytes: Array(text.utf8)) }

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

    /// The body of a chunked response so far (`Transfer-Encoding: chunked`, as a stream is
    /// sent): the chunks that have arrived whole, joined, without their framing.
    package var chunkedBody: String {
        guard let end = text.range(of: "\r\n\r\n") else { return "" }
        var rest = Substring(text[end.upperBound...])
        var body = ""
        while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 {
            let chunk = rest[line.upperBound...].utf8
            guard chunk.count >= size + 2 else { break }
            let stop = chunk.index(chunk.startIndex, offsetBy: size)
            body += String(Substring(chunk[..<stop]))
            rest = Substring(chunk[chunk.index(stop, offsetBy: 2)...])
        }
        return body
    }
}
