import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit
import Synchronization

/// What the gateway knows about its super node: where it is, the certificate it issued
/// this gateway, and its root key once verified. Built by `serve --super-node URL
/// --certificate FILE`; shared by the uplink (and anything else that talks to the super node).
///
/// A super node may run as replicas sharing one PostgreSQL store (docs/SCALING.md): then
/// `--super-node` is given once per replica, and the gateway talks to one at a time, moving
/// on to the next (round robin) when the one it uses does not answer (`moveOn(from:)`).
///
/// The root key is trusted only when its key id is the certificate's issuer and the
/// certificate's signature verifies under it (the id binds the key). It comes from
/// `--super-node-key`, from `DIR/super-node-root.pub` (kept from an earlier run), or from
/// `GET /v1/root` the first time the super node answers; once verified it is written to
/// `DIR/super-node-root.pub`.
package final class SuperNodeLink: Sendable {
    /// Every base URL of the super node (one per replica), without a trailing slash.
    package let urls: [String]
    private let current = Atomic<Int>(0)

    /// The base URL in use now.
    package var url: String { urls[current.load(ordering: .relaxed) % urls.count] }
    /// The certificate `super-node certify` issued for this gateway's key.
    package let certificate: SignedGatewayCertificate
    /// Where the verified root key is kept (`DIR/super-node-root.pub`).
    package let rootKeyPath: String
    /// How an https:// super node is recognised, and the client certificate presented to it.
    package let tls: ClientTLS
    private let root: Mutex<PublicIdentity?>

    /// The super node's root key, once verified; nil until the super node was reached (or a key was pinned).
    package var rootKey: PublicIdentity? { root.withLock { $0 } }

    /// This gateway's id (the certificate's subject).
    package var gateway: GatewayID { certificate.certificate.gateway }

    /// - Parameter urls: the super node's base URLs (at least one; one per replica).
    package init(
        urls: [String],
        certificate: SignedGatewayCertificate,
        rootKeyPath: String,
        rootKey: PublicIdentity? = nil,
        tls: ClientTLS = .system
    ) {
        precondition(!urls.isEmpty, "a super node link needs a URL")
        self.urls = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.certificate = certificate
        self.rootKeyPath = rootKeyPath
        self.tls = tls
        root = Mutex(rootKey)
    }

    /// A link to a super node at one URL.
    package convenience init(
        url: String,
        certificate: SignedGatewayCertificate,
        rootKeyPath: String,
        rootKey: PublicIdentity? = nil,
        tls: ClientTLS = .system
    ) {
        self.init(urls: [url], certificate: certificate, rootKeyPath: rootKeyPath, rootKey: rootKey, tls: tls)
    }

    /// After a call to `failed` (a base URL, or a request URL under it) got no answer: moves
    /// to the next URL of the list (round robin), unless another caller has moved on from it
    /// already. Returns the URL to use now, nil when there is no other.
    @discardableResult
    package func moveOn(from failed: String) -> String? {
        guard urls.count > 1 else { return nil }
        let index = current.load(ordering: .relaxed)
        let base = urls[index % urls.count]
        if failed == base || failed.hasPrefix(base + "/") {
            _ = current.compareExchange(expected: index, desired: (index + 1) % urls.count, ordering: .relaxed)
        }
        return url
    }

    /// Loads the link for `serve`: reads and checks the certificate file against the
    /// gateway's key, and the root key (pinned file, else the one kept in the data
    /// directory). Every problem is one line that says what to do.
    package static func load(
        urls: [String],
        certificateFile: String,
        pinnedRootKeyFile: String?,
        directory: DataDirectory,
        gatewayKey: PublicIdentity,
        tls: ClientTLS = .system
    ) throws -> SuperNodeLink {
        guard let text = try? String(contentsOfFile: certificateFile, encoding: .utf8) else {
            throw SuperNodeLinkError.certificateUnreadable(file: certificateFile)
        }
        let certificate: SignedGatewayCertificate
        do { certificate = try SignedGatewayCertificate(fileText: text) } catch {
            throw SuperNodeLinkError.notACertificate(file: certificateFile, underlying: "\(error)")
        }
        let c = certificate.certificate
        guard c.gatewayKey == gatewayKey else {
            throw SuperNodeLinkError.certificateForAnotherGateway(
                file: certificateFile,
                certified: c.gateway,
                name: c.name,
                gateway: gatewayKey.id,
                publicKeyPath: directory.publicKeyPath
            )
        }
        let link = SuperNodeLink(urls: urls, certificate: certificate, rootKeyPath: directory.rootKeyPath, tls: tls)
        if let pinnedRootKeyFile {
            let key: PublicIdentity
            do { key = try KeyFile.readPublicKey(from: pinnedRootKeyFile) } catch {
                throw SuperNodeLinkError.pinnedKeyUnreadable(error)
            }
            if let problem = link.problem(with: key) {
                throw SuperNodeLinkError.pinnedKeyRejected(file: pinnedRootKeyFile, problem: problem)
            }
            try link.keep(key)
        } else if FileManager.default.fileExists(atPath: directory.rootKeyPath) {
            let key: PublicIdentity
            do { key = try KeyFile.readPublicKey(from: directory.rootKeyPath) } catch {
                throw SuperNodeLinkError.keptKeyUnreadable(path: directory.rootKeyPath, underlying: "\(error)")
            }
            if let problem = link.problem(with: key) {
                throw SuperNodeLinkError.keptKeyRejected(path: directory.rootKeyPath, problem: problem)
            }
            link.root.withLock { $0 = key }
        }
        return link
    }

    /// The typed client for the super node, over `http`, with the link's TLS.
    package func client(_ http: HTTPClient = .gridLedger) -> SuperNodeClient {
        SuperNodeClient(base: url, client: http, tls: tls)
    }

    /// Why `key` cannot be the root key of this certificate; nil when it is.
    package func problem(with key: PublicIdentity) -> String? {
        let c = certificate.certificate
        guard key.id == c.issuer else {
            return
                "root key \(key.id.hex) is not the issuer of the certificate (serial \(c.serial), issued by \(c.issuer.hex))"
        }
        guard certificate.isSignatureValid(by: key) else {
            return
                "the certificate (serial \(c.serial)) does not verify under root key \(key.id.hex): the certificate file was altered"
        }
        return nil
    }

    /// Trusts `key` (checked with `problem(with:)` first) and writes it to `rootKeyPath`.
    package func keep(_ key: PublicIdentity) throws {
        if let problem = problem(with: key) { throw SuperNodeLinkError.untrustedRootKey(problem: problem) }
        let existing = try? KeyFile.readPublicKey(from: rootKeyPath)
        if existing != key {
            do { try KeyFile.writePublicKey(key, to: rootKeyPath, comment: "super-node-root", overwrite: true) } catch {
                throw SuperNodeLinkError.rootKeyNotWritten(path: rootKeyPath, underlying: "\(error)")
            }
        }
        root.withLock { $0 = key }
    }
}
