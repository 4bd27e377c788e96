internal import CModbus
import Foundation
import Glibc
import Logging

/// Serves register banks over Modbus TCP.
///
/// libmodbus opens the listening socket and accepts connections; one thread polls them
/// all. Requests are routed by the MBAP unit id; a unit that is not served gets no
/// answer, as on a serial line behind a gateway that stays silent.
public final class ModbusTCPServer: ModbusServing, @unchecked Sendable {
    /// The address the server listens on.
    public let host: String
    /// The bound port (the kernel's choice when 0 was asked for).
    public private(set) var port: Int
    /// At most this many clients at once; further ones are accepted and closed at once.
    /// Clients silent for `ServerOptions.idleTimeout` are closed to make room.
    public let maxConnections: Int
    private let context: ModbusContext
    private let listener: Int32
    private let dispatcher: any FrameAnswering
    private let options: ServerOptions
    private let thread: PollingThread

    /// Binds `host:port` (port 0: any free port; read `port` afterwards).
    public convenience init(
        host: String = "127.0.0.1",
        port: Int = 502,
        units: [UInt8: RegisterBank],
        options: ServerOptions = ServerOptions(),
        maxConnections: Int = 16
    ) throws(ModbusError) {
        try self.init(
            host: host,
            port: port,
            options: options,
            maxConnections: maxConnections,
            answering: { () throws(ModbusError) in
                try RequestDispatcher(units: units, framing: .tcp, options: options)
            }
        )
    }

    /// Binds `host:port` and answers every request through `proxy`: a Modbus TCP front for
    /// a device behind it (`ModbusProxy`).
    public convenience init(
        host: String = "127.0.0.1",
        port: Int = 502,
        proxy: ModbusProxy,
        options: ServerOptions = ServerOptions(),
        maxConnections: Int = 16
    ) throws(ModbusError) {
        try self.init(
            host: host,
            port: port,
            options: options,
            maxConnections: maxConnections,
            answering: { () throws(ModbusError) in proxy }
        )
    }

    private init(
        host: String,
        port: Int,
        options: ServerOptions,
        maxConnections: Int,
        answering: () throws(ModbusError) -> any FrameAnswering
    ) throws(ModbusError) {
        let context = try ModbusContext(endpoint: .tcp(host: host, port: port))
        let listener = try context.check(modbus_tcp_pi_listen(context.handle, Int32(maxConnections)), "listen")
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard named == 0 else {
            Glibc.close(listener)
            throw ModbusError.fromErrno(errno, operation: "read bound address of \(host):\(port)")
        }
        let family = address.ss_family
        let boundPort: UInt16 = withUnsafePointer(to: &address) { pointer in
            if family == sa_family_t(AF_INET6) {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin6_port)
                }
            } else {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        }
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        self.context = context
        self.listener = listener
        self.host = host
        self.port = Int(boundPort)
        self.maxConnections = maxConnections
        self.options = options
        do {
            self.dispatcher = try answering()
            self.thread = try PollingThread()
        } catch {
            Glibc.close(listener)
            throw error
        }
    }

    deinit {
        stop()
        Glibc.close(listener)
    }

    public var statistics: ServerStatistics { dispatcher.statistics }

    public func start() throws(ModbusError) {
        options.logger.info("serving Modbus TCP", metadata: ["modbus.listen": "\(host):\(port)"])
        thread.start(name: "modbus tcp \(host):\(port)") { [self] in serve() }
    }

    public func stop() {
        thread.stop()
    }

    private struct Connection {
        var descriptor: Int32
        var peer: String
        var pending: [UInt8] = []
        /// When the client last made progress: connected, had a request answered, or sent the
        /// first byte of the request now pending. The idle timeout runs from here, so a client
        /// trickling a request byte by byte is dropped as surely as a silent one.
        var quietSince: ContinuousClock.Instant
    }

    private func serve() {
        var connections: [Connection] = []
        defer { for connection in connections { Glibc.close(connection.descriptor) } }
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !thread.isStopping {
            var descriptors =
                [
                    pollfd(fd: thread.wakeDescriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                ] + connections.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let timeout = pollTimeout(connections)
            guard poll(&descriptors, nfds_t(descriptors.count), timeout) >= 0 || errno == EINTR else {
                options.logger.error("polling connections failed", metadata: ["errno": "\(errno)"])
                return
            }
            if descriptors[0].revents != 0 { return }
            var closed: Set<Int32> = []
            for (index, descriptor) in descriptors.enumerated().dropFirst(2) where descriptor.revents != 0 {
                let position = index - 2
                let count = buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count == 0 || (errno != EAGAIN && errno != EINTR) { closed.insert(descriptor.fd) }
                    continue
                }
                if connections[position].pending.isEmpty { connections[position].quietSince = .now }
                connections[position].pending.append(contentsOf: buffer[0..<count])
                switch serveFrames(of: &connections[position]) {
                case .none: closed.insert(descriptor.fd)
                case .some(0): break
                case .some: connections[position].quietSince = .now
                }
            }
            closeExpired(&connections, closing: &closed)
            for descriptor in closed { Glibc.close(descriptor) }
            connections.removeAll { closed.contains($0.descriptor) }
            // Accept last, so that a client turned away for lack of room gets the room the
            // connections closed above have just freed.
            if descriptors[1].revents & Int16(POLLIN) != 0 {
                acceptClient(into: &connections)
            }
        }
    }

    /// Milliseconds until the next connection's idle timeout ends (at most a second, the
    /// pace at which the thread checks whether it should stop anyway).
    private func pollTimeout(_ connections: [Connection]) -> Int32 {
        guard let idleTimeout = options.idleTimeout, let oldest = connections.map(\.quietSince).min() else {
            return 1000
        }
        let remaining = (oldest + idleTimeout) - ContinuousClock.now
        guard remaining < .seconds(1) else { return 1000 }
        guard remaining > .zero else { return 0 }
        let (_, attoseconds) = remaining.components
        return Int32(attoseconds / 1_000_000_000_000_000) + 1  // rounded up: never wake too early
    }

    /// Marks for closing every connection quiet for the idle timeout, and reports each.
    private func closeExpired(_ connections: inout [Connection], closing closed: inout Set<Int32>) {
        guard let idleTimeout = options.idleTimeout else { return }
        let now = ContinuousClock.now
        for connection in connections
        where !closed.contains(connection.descriptor) && now - connection.quietSince >= idleTimeout {
            closed.insert(connection.descriptor)
            if connection.pending.isEmpty {
                dispatcher.count { $0.idleConnectionsClosed += 1 }
                options.report(DroppedConnection(reason: .idle, peer: connection.peer))
            } else {
                dispatcher.count { $0.framingErrors += 1 }
                options.report(
                    DroppedConnection(
                        reason: .stalledFrame,
                        peer: connection.peer,
                        pendingBytes: connection.pending.count
                    )
                )
            }
        }
    }

    private func acceptClient(into connections: inout [Connection]) {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                // Close-on-exec: a process this one starts must not keep a client's connection open.
                accept4(listener, $0, &length, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
            }
        }
        guard client >= 0 else { return }
        let peer = socketAddressDescription(address)
        guard connections.count < maxConnections else {
            // Reported before closing, so whoever sees the close can also see the report.
            options.report(DroppedConnection(reason: .tooManyClients, peer: peer))
            Glibc.close(client)
            return
        }
        connections.append(Connection(descriptor: client, peer: peer, quietSince: .now))
        dispatcher.count { $0.connectionsAccepted += 1 }
    }

    /// Answers every whole frame waiting on the connection, and returns how many it
    /// answered; nil when the connection must be closed.
    private func serveFrames(of connection: inout Connection) -> Int? {
        var served = 0
        while true {
            guard let boundary = TCPRequestFraming.boundary(connection.pending[...]) else {
                dispatcher.count { $0.framingErrors += 1 }
                options.report(
                    DroppedConnection(
                        reason: .invalidHeader,
                        peer: connection.peer,
                        pendingBytes: connection.pending.count
                    )
                )
                return nil
            }
            guard case .complete(let length) = boundary, connection.pending.count >= length else { return served }
            let frame = Array(connection.pending[0..<length])
            connection.pending.removeFirst(length)
            served += 1
            guard let (answer, fault) = dispatcher.answer(frame, unit: frame[6]) else { continue }
            var bytes = answer
            switch fault {
            case .corruptFrame:
                bytes[0] ^= 0xA5  // transaction id: TCP has no CRC to damage
            case .delay(let duration):
                sleep(until: ContinuousClock.now + duration)
            default:
                break
            }
            guard writeAll(connection.descriptor, bytes) else { return nil }
            dispatcher.count { $0.replies += 1 }
        }
    }
}
