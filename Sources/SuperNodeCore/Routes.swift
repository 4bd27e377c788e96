import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite
import LedgerStore

extension SuperNode {
    /// - Parameter eventStreams: how many dashboard event streams are open at once, and their heartbeat.
    package func router(eventStreams: EventStreamLimits = EventStreamLimits()) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONBodyMiddleware { Rejection(reason: .unsupportedMediaType, message: $0) })
        router.on(SuperNodeRoutes.health) { _, _ in "ok\n" }
        router.on(SuperNodeRoutes.root) { _, _ in
            Self.json(
                RootView(
                    id: self.root.id.hex,
                    publicKey: KeyFile.publicKeyLine(self.root.publicIdentity, comment: "super-node-root"),
                    logOrigin: self.log.origin,
                    logVerifierKey: self.log.key.verifierKey
                )
            )
        }
        router.on(SuperNodeRoutes.blocks) { request, _ in
            try await self.handlePush(request)
        }
        router.on(SuperNodeRoutes.escalations) { request, _ in
            try await self.handleEscalation(request)
        }
        router.on(SuperNodeRoutes.gateways) { _, _ in
            try await self.gatewayList()
        }
        router.on(SuperNodeRoutes.flags) { request, _ in
            var gateway: GatewayID?
            if let text = request.uri.queryParameters.get("gateway") {
                guard let id = GatewayID(hex: text) else {
                    throw Rejection(
                        reason: .malformedRequest,
                        message: "?gateway= must be a gateway id of 32 hex digits"
                    )
                }
                guard try await !self.certificates().filter({ $0.certificate.gateway == id }).isEmpty else {
                    throw Rejection(
                        reason: .notFound,
                        message: "gateway \(id.hex) holds no certificate from this super node"
                    )
                }
                gateway = id
            }
            return Self.json(
                ValueFlagListView(flags: try await self.valueFlags(gateway: gateway).map(ValueFlagView.init))
            )
        }
        router.on(SuperNodeRoutes.checkpoint) { _, context in
            guard let gateway = context.parameters.get("gateway").flatMap(GatewayID.init(hex:)) else {
                throw Rejection(reason: .malformedRequest, message: "the gateway id must be 32 hex digits")
            }
            guard let height = context.parameters.get("height").flatMap(UInt64.init) else {
                throw Rejection(reason: .malformedRequest, message: "the height must be a non-negative integer")
            }
            guard let checkpoint = try await self.checkpoint(gateway: gateway, height: height) else {
                throw Rejection(
                    reason: .notFound,
                    message:
                        "no checkpoint for block \(height) of gateway \(gateway.hex): not pushed, or not accepted"
                )
            }
            return Self.json(CheckpointView(checkpoint))
        }
        addLogRoutes(to: router)
        addDashboardRoutes(to: router, limits: eventStreams)
        return router
    }

    private func handlePush(_ request: Request) async throws -> Response {
        do { try await admitPush(signature: request.stampHeader) } catch let rejection as Rejection {
            logger.warning(
                "push refused before its body was read",
                metadata: ["reason": "\(rejection.reason.rawValue)", "detail": "\(rejection.message)"]
            )
            return Self.refusePush(rejection)
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(for: SuperNodeRoutes.blocks) } catch let error as BodyTooLarge {
            return Self.refusePush(Rejection(reason: .bodyTooLarge, message: "\(error); push fewer blocks at a time"))
        }
        let push: PushRequest
        do { push = try JSONDecoder().decode(PushRequest.self, from: Data(buffer: body)) } catch {
            return Self.refusePush(
                Rejection(
                    reason: .malformedRequest,
                    message: "the body is not {\"certificate\": base64, \"blocks\": [base64, …]}: \(error)"
                )
            )
        }
        guard !push.blocks.isEmpty else {
            return Self.refusePush(
                Rejection(reason: .malformedRequest, message: "\"blocks\" is empty; push at least one block")
            )
        }
        var certificate: [UInt8]?
        if let text = push.certificate, !text.isEmpty {
            guard let data = Data(base64Encoded: text) else {
                return Self.refusePush(
                    Rejection(reason: .malformedCertificate, message: "\"certificate\" is not base64")
                )
            }
            certificate = Array(data)
        }
        if let url = push.gatewayURL {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
                url.utf8.count <= 2048
            else {
                return Self.refusePush(
                    Rejection(
                        reason: .malformedURL,
                        message:
                            "\"gatewayURL\" must be an http:// or https:// URL with a host, at most 2048 bytes; got '\(url.prefix(80))'"
                    )
                )
            }
        }
        var blocks: [[UInt8]] = []
        for (index, text) in push.blocks.enumerated() {
            guard let data = Data(base64Encoded: text) else {
                return Self.refusePush(
                    Rejection(
                        reason: .malformedBlock,
                        message: "block \(index) of the push is not base64",
                        index: index
                    )
                )
            }
            blocks.append(Array(data))
        }
        let outcome = try await self.push(
            certificate: certificate,
            proof: Self.proof(request, body: body),
            gatewayURL: push.gatewayURL,
            blocks: blocks
        )
        let response = PushResponse(
            checkpoints: outcome.accepted.map { CheckpointView($0.checkpoint, replayed: $0.replayed) },
            flags: outcome.flags.map(ValueFlagView.init),
            rejected: outcome.rejection.map(RejectionView.init)
        )
        if let gateway = outcome.gateway {
            publish("push", PushEventView(at: clock(), gateway: gateway.hex, answer: response))
        }
        return Self.json(response, status: HTTPResponse.Status(code: outcome.rejection?.reason.status ?? 200))
    }

    private func handleEscalation(_ request: Request) async throws -> Response {
        func refuse(_ reason: Reason, _ message: String) -> Response {
            Self.json(
                EscalationAnswer(status: "refused", reason: reason.rawValue, message: message),
                status: HTTPResponse.Status(code: reason.status)
            )
        }
        var request = request
        let submission: EscalationSubmission
        let body: ByteBuffer
        do {
            body = try await request.collectBody(for: SuperNodeRoutes.escalations)
            submission = try JSONDecoder().decode(EscalationSubmission.self, from: Data(buffer: body))
        } catch let error as BodyTooLarge {
            return refuse(.bodyTooLarge, "\(error)")
        } catch {
            return refuse(
                .malformedRequest,
                "the body is not {\"certificate\": base64, \"request\": base64, \"consumerKey\": \"ed25519 …\"}: \(error)"
            )
        }
        guard let certificate = Data(base64Encoded: submission.certificate) else {
            return refuse(.malformedCertificate, "\"certificate\" is not base64")
        }
        guard let record = Data(base64Encoded: submission.request) else {
            return refuse(.malformedRequest, "\"request\" is not base64")
        }
        let (status, answer) = try await escalate(
            certificate: certificate.isEmpty ? nil : Array(certificate),
            proof: Self.proof(request, body: body),
            request: Array(record),
            consumerKey: submission.consumerKey
        )
        // Refusals (a bad certificate, signature or record) are the sender's problem, not an escalation.
        if answer.status != "refused" {
            var event = EscalationEventView(at: clock(), answer: answer)
            // `escalate` decoded the record already: a failure here only leaves the consumer out of the event.
            if let entry = try? SignedRecord(bytes: Array(record)), case let .request(q) = entry.record {
                event.consumer = q.consumer.hex
                event.energyWh = q.energyWh
            }
            publish("escalation", event)
        }
        return Self.json(answer, status: HTTPResponse.Status(code: status))
    }

    /// The request's `GridLedger-Signature` header and its body's exact bytes.
    private static func proof(_ request: Request, body: ByteBuffer) -> RequestProof {
        RequestProof(signature: request.stampHeader, body: Array(buffer: body))
    }

    private func gatewayList() async throws -> Response {
        let rows = try await certificates()
        let tips = try await auditedTips()
        let urls = try await gatewayEndpoints()
        let standings = try await valueStandings()
        var order: [GatewayID] = []
        var byGateway: [GatewayID: [CertificateRow]] = [:]
        for row in rows {
            if byGateway[row.certificate.gateway] == nil { order.append(row.certificate.gateway) }
            byGateway[row.certificate.gateway, default: []].append(row)
        }
        let views = order.map { gateway -> GatewayView in
            let certs = byGateway[gateway] ?? []
            let latest = certs.last!.certificate
            let tip = tips[gateway]
            let standing = standings[gateway] ?? ValueStanding()
            return GatewayView(
                gateway: gateway.hex,
                publicKey: KeyFile.publicKeyLine(latest.gatewayKey),
                name: latest.name,
                revoked: certs.allSatisfy { $0.revokedAt != nil },
                certificates: certs.map {
                    .init(
                        serial: $0.certificate.serial,
                        name: $0.certificate.name,
                        issuedAt: $0.certificate.issuedAt,
                        revoked: $0.revokedAt != nil,
                        revokedAt: $0.revokedAt
                    )
                },
                auditedHeight: tip?.height,
                auditedTreeSize: tip?.treeSize,
                auditedBlockHash: tip?.hash.hex,
                url: urls[gateway],
                suspended: standing.suspension != nil,
                suspendedAt: standing.suspension?.suspendedAt,
                valueFlags: standing.flaggedBlocks,
                valueFlagsTotal: standing.flaggedBlocksTotal
            )
        }
        return Self.json(GatewayListView(gateways: views))
    }

    package static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    package static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data =
            (try? encoder.encode(value))
            ?? Data("{\"reason\":\"internal\",\"message\":\"cannot encode the response\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A push refused before any block was looked at: the push answer's shape, no checkpoints.
    package static func refusePush(_ rejection: Rejection) -> Response {
        json(
            PushResponse(checkpoints: [], rejected: RejectionView(rejection)),
            status: HTTPResponse.Status(code: rejection.reason.status)
        )
    }
}
