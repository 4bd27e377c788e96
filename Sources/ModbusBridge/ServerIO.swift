import Glibc

/// Writes all of `bytes` to a non-blocking descriptor, waiting up to `timeout` for room.
func writeAll(_ fd: Int32, _ bytes: [UInt8], timeout: Duration = .seconds(1)) -> Bool {
    var offset = 0
    let deadline = ContinuousClock.now + timeout
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written > 0 {
            offset += written
            continue
        }
        guard written < 0, errno == EAGAIN || errno == EINTR, ContinuousClock.now < deadline else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&descriptor, 1, 10)
    }
    return true
}

/// Sleeps until `deadline` with sub-millisecond precision.
func sleep(until deadline: ContinuousClock.Instant) {
    let remaining = deadline - ContinuousClock.now
    guard remaining > .zero else { return }
    let (seconds, attoseconds) = remaining.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remainder = timespec()
    while nanosleep(&request, &remainder) == -1 && errno == EINTR {
        request = remainder
    }
}

/// `HOST:PORT` (`[HOST]:PORT` for IPv6) of a socket address, for logs.
func socketAddressDescription(_ address: sockaddr_storage) -> String {
    var storage = address
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let family = Int32(storage.ss_family)
    return withUnsafePointer(to: &storage) { pointer in
        switch family {
        case AF_INET:
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var host = inet.pointee.sin_addr
                guard inet_ntop(AF_INET, &host, &text, socklen_t(text.count)) != nil else { return "unknown" }
                return "\(String(cString: text)):\(UInt16(bigEndian: inet.pointee.sin_port))"
            }
        case AF_INET6:
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                var host = inet.pointee.sin6_addr
                guard inet_ntop(AF_INET6, &host, &text, socklen_t(text.count)) != nil else { return "unknown" }
                return "[\(String(cString: text))]:\(UInt16(bigEndian: inet.pointee.sin6_port))"
            }
        default:
            "unknown"
        }
    }
}
