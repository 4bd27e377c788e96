import Foundation
import GatewayCore
import GridAPI
import GridTLS
import LedgerLite
import Logging
import OperatorKit

/// Enroll and revoke: append directly when no server holds the directory's lock, else
/// ask the running server through its admin endpoint.
enum AdminClient {
    /// One action; returns the line that says what was done.
    static func perform(
        _ dir: DataDirectory,
        remote: (GatewayClient, _ token: String) async throws(GridAPIError) -> AdminResponse,
        offline: (ChainWriter) async throws(AdminError) -> SignedRecord
    ) async throws -> String {
        try await performMany(
            dir,
            remote: { client, token throws(GridAPIError) in
                let response = try await patiently { () async throws(GridAPIError) in try await remote(client, token) }
                return ["\(response.action) meter \(response.meter) as \(response.role)"]
            },
            offline: { writer throws(AdminError) in [describe(try await offline(writer))] }
        ).joined(separator: "\n")
    }

    /// Actions whose outcome is one line each, e.g. many enrollments; `remote` and `offline`
    /// return the lines, each of which gets where it was done appended.
    static func performMany(
        _ dir: DataDirectory,
        remote: (GatewayClient, _ token: String) async throws(GridAPIError) -> [String],
        offline: (ChainWriter) async throws(AdminError) -> [String]
    ) async throws -> [String] {
        try dir.requireInitialised()
        if let lock = try DirectoryLock(path: dir.lockPath) {
            var logger = Logger(label: "edge-gateway")
            logger.logLevel = .warning
            let gateway = try await Gateway.open(directory: dir, logger: logger)
            let lines: [String]
            do { lines = try await offline(gateway.writer) } catch {
                await gateway.shutdown()
                throw OperatorError(error.description)
            }
            await gateway.writer.sealNow()
            await gateway.shutdown()
            withExtendedLifetime(lock) {}
            return lines.map { $0 + " (written directly to \(dir.chainPath))" }
        }
        guard let url = dir.urlFile.read() else {
            throw OperatorError(
                "a gateway holds \(dir.lockPath) but wrote no \(dir.urlPath); wait until it has started, or stop it and run this again"
            )
        }
        let token = try dir.loadToken()
        guard let base = URL(string: url) else {
            throw OperatorError("\(dir.urlPath) holds '\(url)', which is not a URL; restart `edge-gateway serve`")
        }
        let tls = try trust(of: dir, url: url)
        do throws(GridAPIError) {
            let client = GatewayClient(base: base, tls: tls)
            let lines = try await remote(client, token)
            return lines.map { $0 + " (through the running gateway at \(url))" }
        } catch .transport(let called, let error) {
            throw OperatorError(
                "cannot reach the running gateway at \(called): \(error); check that `edge-gateway serve` is up"
            )
        } catch {
            let message = (try? JSONDecoder().decode(ErrorView.self, from: error.body ?? Data()))?.error
            throw OperatorError(
                "the gateway at \(url) refused: \(message ?? error.bodyText) (HTTP \(error.status ?? 0))"
            )
        }
    }

    /// One admin call, sent again when the gateway answers 429 (`RetryAfterPatience`).
    static func patiently<Answer>(
        _ call: () async throws(GridAPIError) -> Answer
    ) async throws(GridAPIError) -> Answer {
        try await RetryAfterPatience().run(call, retryAfter: \.retryAfter)
    }

    /// A gateway serving HTTPS is pinned by the fingerprint it published beside its URL (the
    /// certificate it serves, whatever its names); plain HTTP needs nothing.
    static func trust(of dir: DataDirectory, url: String) throws -> ClientTLS {
        guard url.lowercased().hasPrefix("https:") else { return .system }
        guard let text = dir.urlFile.readFingerprint(), let pin = CertificateFingerprint(text: text) else {
            throw OperatorError(
                "the gateway serves \(url) but \(dir.urlFile.fingerprintPath) holds no certificate fingerprint; restart `edge-gateway serve`"
            )
        }
        return try ClientTLS(trust: .fingerprint(pin))
    }

    static func describe(_ entry: SignedRecord) -> String {
        switch entry.record {
        case let .enrollment(e): return "enrolled meter \(e.meter.hex) as \(e.role)"
        case let .revocation(r): return "revoked meter \(r.meter.hex) (\(r.role))"
        default: return "wrote \(entry.record.type)"
        }
    }
}
