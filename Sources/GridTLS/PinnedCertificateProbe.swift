import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Fetches the certificate a server presents and checks it against a pinned fingerprint:
/// async-http-client has no verification hook, so a pinned client first learns the one
/// certificate that matches and then trusts exactly that certificate.
package enum PinnedCertificateProbe {
    /// Connects once, completes a handshake only if the leaf certificate has the pinned
    /// fingerprint, and returns that certificate.
    package static func fetch(
        host: String,
        port: Int,
        pin: CertificateFingerprint,
        timeout: TimeAmount = .seconds(5)
    ) async throws -> NIOSSLCertificate {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let presented = NIOLockedValueBox<NIOSSLCertificate?>(nil)
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.any().makePromise(of: Void.self)
        let serverName = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(
                            context: context,
                            serverHostname: serverName,
                            customVerificationCallback: { certificates, promise in
                                presented.withLockedValue { $0 = certificates.first }
                                let matches =
                                    certificates.first.flatMap { try? $0.toDERBytes() }
                                    .map { CertificateFingerprint(der: $0) == pin } ?? false
                                promise.succeed(matches ? .certificateVerified : .failed)
                            }
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            done.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        do {
            try await done.futureResult.get()
        } catch {
            guard let leaf = presented.withLockedValue({ $0 }), let der = try? leaf.toDERBytes() else { throw error }
            let seen = CertificateFingerprint(der: der)
            guard seen == pin else {
                throw TLSError(
                    "the server at \(host):\(port) presented certificate SHA-256 \(seen), not the pinned \(pin); check the pin (the server's `init` printed it) or whether its certificate was replaced"
                )
            }
            throw error
        }
        guard let leaf = presented.withLockedValue({ $0 }) else {
            throw TLSError("the server at \(host):\(port) presented no certificate")
        }
        return leaf
    }
}

/// Completes `done` when the handshake completes, fails it on the first error or when the
/// connection closes first.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let done: EventLoopPromise<Void>
    private var finished = false

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { finish(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(TLSError("the connection closed before the TLS handshake completed"))
        context.fireChannelInactive()
    }

    private func finish(_ error: (any Error)?) {
        guard !finished else { return }
        finished = true
        if let error { done.fail(error) } else { done.succeed() }
    }
}
