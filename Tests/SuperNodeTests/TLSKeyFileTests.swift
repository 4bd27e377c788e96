import Foundation
import GridTLS
import OperatorKit
import TestSupport
import Testing

@testable import SuperNode
@testable import SuperNodeCore

/// The super node's `init` and `tls-certificate` write a TLS key that passes the check every
/// private key file is read with (the checks themselves: EdgeGatewayTests/TLSKeyFileTests).
@Suite("Super node TLS key file")
struct SuperNodeTLSKeyFileTests {
    @Test("init and tls-certificate write tls.key with mode 0600, and serve --tls loads it; a loose one is refused")
    func writtenKeyPassesItsOwnCheck() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = SuperDirectory(root.file("super"))
        let key = dir.directory.tlsKeyPath
        let mode = { ((try? FileManager.default.attributesOfItem(atPath: key)[.posixPermissions]) as? Int) ?? -1 }
        let serve = {
            try ServerTLSOptions.parse(["--tls"]).identity(
                directory: dir.directory,
                listen: ListenAddress(argument: "127.0.0.1:0")!,
                logger: LogCapture().logger
            )
        }
        try await InitCommand.parse(["--data", dir.path]).run()
        #expect(mode() == 0o600)
        #expect(try serve() != nil)

        try await TLSCertificateCommand.parse(["--data", dir.path, "--hostname", "grid.example.net"]).run()
        #expect(mode() == 0o600)
        #expect(try serve() != nil)

        #expect(chmod(key, 0o644) == 0)
        do {
            _ = try serve()
            Issue.record("a TLS key others can read was served")
        } catch {
            #expect("\(error)".contains("Run `chmod 600 \(key)`"), "\(error)")
        }
    }
}
