import Foundation
import GridTLS
import NIOConcurrencyHelpers
import NIOSSL

/// How the typed clients speak HTTPS: which server certificate they trust (`ServerTrust`)
/// and, for the gateway's link to its super node, the client certificate they present.
/// Plain http:// URLs are unaffected.
package struct ClientTLS: Sendable {
    /// How the server is recognised.
    package let trust: ServerTrust
    /// The certificate presented to the server when it asks for one (mutual TLS).
    package let identity: TLSIdentity?
    private let caCertificates: [NIOSSLCertificate]
    private let pinned: PinnedCertificates

    /// The system's trust store, no client certificate.
    package static let system = ClientTLS(trust: .system, identity: nil, caCertificates: [])

    private init(trust: ServerTrust, identity: TLSIdentity?, caCertificates: [NIOSSLCertificate]) {
        self.trust = trust
        self.identity = identity
        self.caCertificates = caCertificates
        pinned = PinnedCertificates()
    }

    /// Reads the CA file now, so that a wrong path fails at start-up rather than at the first
    /// request.
    package init(trust: ServerTrust, identity: TLSIdentity? = nil) throws {
        var certificates: [NIOSSLCertificate] = []
        if case .caFile(let path) = trust {
            do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch {
                throw TLSError(
                    "cannot read the CA file \(path) (\(error)); give a PEM file with the server's CA certificate or its own self-signed certificate"
                )
            }
            guard !certificates.isEmpty else {
                throw TLSError("the CA file \(path) holds no certificate; give a PEM certificate file")
            }
        }
        self.init(trust: trust, identity: identity, caCertificates: certificates)
    }

    /// Trusts exactly `certificates` (as CA certificates, host names checked), read
    /// elsewhere: `source` says where from, as a CA file would.
    package static func trusting(_ certificates: [NIOSSLCertificate], source: String) -> ClientTLS {
        ClientTLS(trust: .caFile(source), identity: nil, caCertificates: certificates)
    }

    /// The TLS configuration for a request to `url`: nil for plain http:// or when the defaults
    /// (system trust, no client certificate) apply.
    package func configuration(for url: String) async throws -> TLSConfiguration? {
        guard url.lowercased().hasPrefix("https:") else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch trust {
        case .system:
            guard identity != nil else { return nil }
        case .caFile:
            configuration.trustRoots = .certificates(caCertificates)
        case .fingerprint(let pin):
            guard let components = URLComponents(string: url), let host = components.host else {
                throw TLSError("'\(url)' names no host")
            }
            let port = components.port ?? 443
            let certificate = try await pinned.certificate(host: host, port: port, pin: pin)
            configuration.trustRoots = .certificates([certificate])
            configuration.certificateVerification = .noHostnameVerification
        }
        if let identity {
            configuration.certificateChain = identity.chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(identity.key)
        }
        return configuration
    }
}

/// The pinned certificate of each server once a probe found it: one probe per server and
/// process, after which the connection pool's TLS configuration stays the same.
private final class PinnedCertificates: Sendable {
    private let found = NIOLockedValueBox<[String: NIOSSLCertificate]>([:])

    func certificate(host: String, port: Int, pin: CertificateFingerprint) async throws -> NIOSSLCertificate {
        let key = "\(host):\(port)"
        if let known = found.withLockedValue({ $0[key] }) { return known }
        let certificate = try await PinnedCertificateProbe.fetch(host: host, port: port, pin: pin)
        found.withLockedValue { $0[key] = certificate }
        return certificate
    }
}
