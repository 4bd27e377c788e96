import Foundation
import GridAPIServer
import OperatorKit
import Synchronization
import TestSupport
import Testing

@testable import GatewayCore

/// Issue 13, point 5: 1,000 stalled connections used to stay open for as long as their
/// clients liked, and nothing capped how many were served. Served through the real server
/// on loopback, with raw sockets that send exactly what an attacker would.
@Suite("Connection timeouts and cap")
struct ConnectionLimitTests {
    /// Runs a gateway's server with `limits` on a free loopback port and calls `body` with it.
    static func withServer(_ limits: ServerLimits, _ body: (Int) async throws -> Void) async throws {
        try await withServer(limits) { port, _ in try await body(port) }
    }

    /// The same, with the gateway's harness.
    static func withServer(_ limits: ServerLimits, _ body: (Int, Harness) async throws -> Void) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let listen = ListenAddress(argument: "127.0.0.1:0")!
        let bound = Mutex<String?>(nil)
        let group = h.gateway.makeServiceGroup(
            listen: listen,
            sealTick: .milliseconds(50),
            handleSignals: false,
            limits: limits,
            onBound: { url in bound.withLock { $0 = url } }
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await h.gateway.run(group, listen: listen) }
            defer { tasks.cancelAll() }
            try await waitUntil("the server's port") { bound.withLock { $0 } != nil }
            let url = try #require(bound.withLock { $0 })
            let port = try #require(Int(url.split(separator: ":").last ?? ""))
            do { try await body(port, h) } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static let healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    /// What the end of a `/healthz` answer holds.
    static let answered = "\"status\":\"ok\""

    @Test func silentConnectionsAndHeadersTrickledByteByByteAreClosed() async throws {
        try await Self.withServer(ServerLimits(idleTimeout: .seconds(1), requestTimeout: .seconds(60))) { port in
            let silent = try (0..<20).map { _ in try RawConnection(port: port) }
            let slow = try (0..<5).map { _ in try RawConnection(port: port) }
            for connection in slow { connection.send("GET /healthz HTTP/1.1\r\nX-Slow: ") }
            // One more header byte on each every 200 ms: a header that never completes.
            try await waitUntil("every stalled connection closed", timeout: .seconds(60)) {
                for connection in slow {
                    connection.send("a")
                    connection.poll()
                }
                for connection in silent { connection.poll() }
                return (silent + slow).allSatisfy(\.closed)
            }
            #expect((silent + slow).allSatisfy { $0.received.isEmpty })
            // A client that speaks is served as before.
            let client = try RawConnection(port: port)
            client.send(Self.healthz)
            try await waitUntil("the answer") {
                client.poll()
                return client.text.contains(Self.answered)
            }
            #expect(client.text.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func aBodyTrickledAfterItsHeaderIsCutAtTheRequestTimeout() async throws {
        try await Self.withServer(ServerLimits(idleTimeout: .seconds(30), requestTimeout: .seconds(1))) { port in
            let slow = try RawConnection(port: port)
            slow.send(
                "POST /v1/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            // A byte every 100 ms keeps the connection from being idle; the whole body would
            // take almost three hours.
            try await waitUntil("the trickling connection closed", timeout: .seconds(60)) {
                slow.send(" ")
                slow.poll()
                return slow.closed
            }
        }
    }

    @Test func connectionsBeyondTheCapWaitUntilOneCloses() async throws {
        try await Self.withServer(ServerLimits(idleTimeout: .seconds(60), maxConnections: 3)) { port in
            // Three connections the server has accepted (each was answered), kept open.
            var held: [RawConnection] = []
            for _ in 0..<3 {
                let connection = try RawConnection(port: port)
                connection.send(Self.healthz)
                try await waitUntil("an answer on a held connection") {
                    connection.poll()
                    return connection.text.contains(Self.answered)
                }
                held.append(connection)
            }
            let waiting = try RawConnection(port: port)
            waiting.send(Self.healthz)
            // Not accepted while three are open (a broken cap answers at once).
            try await Task.sleep(for: .seconds(1))
            waiting.poll()
            #expect(waiting.received.isEmpty)
            held.removeFirst()  // closes it
            try await waitUntil("the waiting connection's answer", timeout: .seconds(30)) {
                waiting.poll()
                return waiting.text.contains(Self.answered)
            }
        }
    }
}
