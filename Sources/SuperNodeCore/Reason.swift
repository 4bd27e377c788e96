import LedgerLite

/// Why the super node refused a push or a block. The raw values are stable reason codes
/// (docs/SUPERNODE.md, "Reasons").
package enum Reason: String, Codable, Sendable, CaseIterable {
    case malformedRequest = "malformed-request"
    case missingCertificate = "missing-certificate"
    case malformedCertificate = "malformed-certificate"
    case untrustedCertificate = "untrusted-certificate"
    case unknownCertificate = "unknown-certificate"
    case revokedCertificate = "revoked-certificate"
    case suspendedCertificate = "suspended-certificate"
    case wrongGateway = "wrong-gateway"
    case malformedBlock = "malformed-block"
    case gap = "gap"
    case fork = "fork"
    case brokenLink = "broken-link"
    case badBlockSignature = "bad-block-signature"
    case timestampsOutOfOrder = "timestamps-out-of-order"
    /// The block ends later than the super node's clock plus its clock window: accepted, it
    /// would put every later block of its gateway out of order.
    case futureTimestamp = "future-timestamp"
    case treeSizeMismatch = "tree-size-mismatch"
    case entryCountMismatch = "entry-count-mismatch"
    case malformedEntry = "malformed-entry"
    case badEntrySignature = "bad-entry-signature"
    case sequenceViolation = "sequence-violation"
    case unfairDispatch = "unfair-dispatch"
    case ruleViolation = "rule-violation"
    case merkleRootMismatch = "merkle-root-mismatch"
    case stateDigestMismatch = "state-digest-mismatch"
    case malformedURL = "malformed-url"
    case foreignAuthority = "foreign-authority"
    case notFound = "not-found"
    /// An escalated request is not signed by the consumer key given.
    case badRequestSignature = "bad-request-signature"
    /// The same request is being escalated right now.
    case escalationInProgress = "escalation-in-progress"
    /// Escalation: the consumer is not enrolled and active (with this key) on the consumer
    /// gateway's chain as audited here.
    case unknownConsumer = "unknown-consumer"
    /// A request that speaks for a gateway carries no `GridLedger-Signature` header.
    case missingSignature = "missing-signature"
    /// The `GridLedger-Signature` header is not a signed request stamp.
    case malformedSignature = "malformed-signature"
    /// The request stamp is not the certified key's signature over this route and body.
    case badSignature = "bad-signature"
    /// The request stamp's time is outside the window around the super node's clock.
    case staleRequest = "stale-request"
    /// The request stamp's nonce was used before within the window.
    case replayedRequest = "replayed-request"
    /// The gateway sent more signed requests within the window than the super node keeps nonces for.
    case tooManyRequests = "too-many-requests"
    /// The body is not sent as `application/json`.
    case unsupportedMediaType = "unsupported-media-type"
    /// The body is larger than the route accepts (`BodyLimit`).
    case bodyTooLarge = "body-too-large"
    /// The sender's address sent more write requests than `--write-rate` allows; the answer
    /// says when to retry (`Retry-After`).
    case rateLimited = "rate-limited"
    /// `GET /v1/events` asked for with an `Accept` that excludes `text/event-stream`.
    case notAcceptable = "not-acceptable"
    /// `--max-event-streams` event streams are open already; the answer says when to retry.
    case tooManyStreams = "too-many-streams"

    /// The HTTP status that goes with it.
    package var status: Int {
        switch self {
        case .malformedRequest, .malformedCertificate, .malformedBlock, .malformedURL, .malformedSignature: return 400
        case .missingCertificate, .missingSignature, .badSignature, .staleRequest: return 401
        case .untrustedCertificate, .unknownCertificate, .revokedCertificate, .suspendedCertificate, .wrongGateway:
            return 403
        case .notFound: return 404
        case .gap, .fork, .brokenLink, .escalationInProgress, .replayedRequest, .unknownConsumer: return 409
        case .tooManyRequests, .rateLimited: return 429
        case .unsupportedMediaType: return 415
        case .bodyTooLarge: return 413
        case .notAcceptable: return 406
        case .tooManyStreams: return 503
        case .badBlockSignature, .timestampsOutOfOrder, .futureTimestamp, .treeSizeMismatch, .entryCountMismatch,
            .malformedEntry,
            .badEntrySignature,
            .sequenceViolation, .unfairDispatch, .ruleViolation, .merkleRootMismatch, .stateDigestMismatch,
            .badRequestSignature,
            .foreignAuthority:
            return 422
        }
    }

    /// The reason for an audit failure.
    package init(_ problem: VerificationProblem) {
        switch problem {
        case .missingBlock, .heightMismatch: self = .gap
        case .undecodableHeader, .storedHashMismatch, .headerVersionDecreased, .orphanEntries, .archiveBoundary:
            self = .malformedBlock
        case .wrongGateway: self = .wrongGateway
        case .badBlockSignature: self = .badBlockSignature
        case .brokenLink: self = .brokenLink
        case .timestampsOutOfOrder: self = .timestampsOutOfOrder
        case .treeSizeMismatch: self = .treeSizeMismatch
        case .entryIndexMismatch, .entryCountMismatch: self = .entryCountMismatch
        case .undecodableEntry: self = .malformedEntry
        case .badSignature: self = .badEntrySignature
        case .merkleRootMismatch: self = .merkleRootMismatch
        case .stateDigestMismatch: self = .stateDigestMismatch
        case let .ruleViolation(v):
            switch v {
            case .sequenceGap, .sequenceReplay, .sequenceNotIncreasing: self = .sequenceViolation
            case .tnt(.dispatchMismatch), .tnt(.infeasibleDispatch), .tnt(.policyMismatch), .tnt(.deliveredMismatch):
                self = .unfairDispatch
            default: self = .ruleViolation
            }
        }
    }
}
