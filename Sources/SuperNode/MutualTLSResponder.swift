import Foundation
import GridAPI
import GridAPIServer
import GridTLS
import HTTPTypes
import Hummingbird
import LedgerLite
import NIOCore
import NIOSSL
import SuperNodeCore

/// In front of the super node's router when it serves TLS and gateways' certificates are
/// pinned (`certify --gateway-tls-cert`): a push or an escalation signed by a gateway whose
/// certificate is pinned must come on a connection that presented exactly that certificate
/// (mutual TLS), so a stolen request signature is of no use from another machine, and a
/// gateway's link is authenticated both ways. The handshake already refused any client
/// certificate that is not pinned; the router then checks the request's signature, so the
/// signer named here is the one checked there. Gateways without a pinned certificate are
/// served as before.
struct MutualTLSResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    typealias Context = PeerRequestContext

    let inner: Inner
    /// Which gateway each pinned certificate is.
    let pins: [CertificateFingerprint: GatewayID]

    private static var gatewayRoutes: Set<String> {
        [
            SuperNodeRoutes.blocks.template, SuperNodeRoutes.escalations.template,
        ]
    }

    func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        if request.method == .post, Self.gatewayRoutes.contains(request.uri.path),
            let signer = Self.signer(of: request), pins.values.contains(signer)
        {
            let presented = try await Self.peerCertificate(context.channel)
            let gateway = presented.flatMap { try? $0.toDERBytes() }.flatMap { pins[CertificateFingerprint(der: $0)] }
            guard gateway == signer else {
                // Rendered here: Hummingbird answers an error thrown by a responder outside a
                // router with a bare 500.
                return try Rejection(
                    reason: .untrustedCertificate,
                    message:
                        "gateway \(signer.hex) must present the TLS certificate pinned for it at `super-node certify --gateway-tls-cert` (mutual TLS); run the gateway with its DIR/tls.crt, or pin the one it presents"
                ).response(from: request, context: context)
            }
        }
        return try await inner.respond(to: request, context: context.basic)
    }

    /// The gateway that signed the request, from its request stamp; nil when it carries none
    /// or a malformed one (the router refuses those).
    static func signer(of request: Request) -> GatewayID? {
        try? RequestStampVerifier.stamp(in: request.stampHeader).stamp.signer
    }

    /// The certificate the client presented on this connection; nil on a connection without one.
    static func peerCertificate(_ channel: any Channel) async throws -> NIOSSLCertificate? {
        try await channel.eventLoop.submit { () -> NIOSSLCertificate? in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) else {
                return nil
            }
            return handler.peerCertificate
        }.get()
    }
}
