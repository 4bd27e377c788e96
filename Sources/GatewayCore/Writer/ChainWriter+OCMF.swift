import GridAPI
import LedgerLite
import LedgerStore

/// OCMF commitments on the writer: what the chain says about them (the meter enrolled and
/// its signature, the gateway named, the next pagination number) and the gateway's clock
/// policy. The OCMF document itself was checked against the commitment off the writer
/// (`IngestPreparation`). An accepted commitment's OCMF string goes into the group, which
/// writes it to the `OCMFArchive` before the journal (`commit`).
extension ChainWriter {
    /// Decides one prepared OCMF commitment, staging it into `group` when accepted.
    /// - Returns: its result, and an anomaly finding when it is evidence of misbehaviour.
    func admitOCMF(
        _ entry: SignedRecord,
        _ c: OCMFCommitment,
        _ document: OCMFDocument,
        signatureValid: Bool?,
        index: Int,
        now: Int64,
        in group: inout CommitGroup
    ) -> (IngestResult, AnomalyFinding?) {
        let hex = c.meter.hex
        func result(_ status: IngestStatus, _ reason: IngestReason? = nil, _ detail: String? = nil) -> IngestResult {
            IngestResult(
                index: index,
                status: status,
                meter: hex,
                sequence: c.pagination,
                reason: reason,
                detail: detail
            )
        }
        let key: PublicIdentity
        do { key = try builder.state.signingKey(for: entry) } catch {
            let (reason, detail) = Self.ocmfRefusal(of: error, c)
            return (result(.rejected, reason, detail), nil)
        }
        guard signatureValid ?? entry.isSignatureValid(by: key) else {
            let finding = detector.badSignature(meter: c.meter, at: now, evidence: Hash256.sha256(entry.bytes))
            return (
                result(
                    .rejected,
                    .badSignature,
                    "the commitment's signature does not verify with meter \(hex)'s enrolled key (altered or forged)"
                ),
                finding
            )
        }
        do { _ = try builder.state.admit(entry) } catch {
            guard case let .ocmfPaginationReplay(_, _, found) = error else {
                let (reason, detail) = Self.ocmfRefusal(of: error, c)
                return (result(.rejected, reason, detail), nil)
            }
            let existing: OCMFArchive.Document?
            if let staged = group.documents.first(where: { $0.meter == c.meter && $0.pagination == found }) {
                existing = staged
            } else {
                do { existing = try ocmfArchive.document(meter: c.meter, pagination: found) } catch {
                    logger.error(
                        "cannot read the OCMF archive to check a repeated OCMF document",
                        metadata: ["meter.id": "\(hex)", "ocmf.pagination": "\(found)", "error": "\(error)"]
                    )
                    return (
                        result(.retry, .storage, "the gateway cannot read its OCMF archive; send again later"), nil
                    )
                }
            }
            if existing?.envelope == entry.bytes, existing?.text == document.text {
                return (result(.duplicate, nil, "OCMF document T\(found) was already accepted; not stored twice"), nil)
            }
            return (
                result(
                    .rejected,
                    .conflictingDuplicate,
                    "meter \(hex) already has an accepted OCMF document T\(found) with other contents"
                ),
                nil
            )
        }
        // A period cannot be over before it ends: a document from the future is refused.
        if c.periodEnd.saturatingMinus(now) > config.maxSkewMs {
            return (
                result(
                    .rejected,
                    .timestampSkew,
                    "OCMF document T\(c.pagination)'s period ends at \(c.periodEnd) ms, after the gateway's clock (\(now) ms) plus the allowed skew of \(config.maxSkewMs) ms"
                ),
                nil
            )
        }
        let chainIndex = builder.tree.size
        do { try stage(entry, at: now, in: &group) } catch {
            // Not reachable: the chain's own admission check passed just above.
            return (result(.rejected, .malformed, "the chain refuses the OCMF commitment: \(error)"), nil)
        }
        group.add(
            OCMFArchive.Document(
                meter: c.meter,
                pagination: c.pagination,
                index: chainIndex,
                periodStart: c.periodStart,
                periodEnd: c.periodEnd,
                envelope: entry.bytes,
                text: document.text
            )
        )
        return (result(.accepted), nil)
    }

    /// The ingest reason and the operator's sentence for an OCMF commitment the chain's rules refuse.
    private static func ocmfRefusal(of violation: RuleViolation, _ c: OCMFCommitment) -> (IngestReason, String) {
        let hex = c.meter.hex
        switch violation {
        case .signerMismatch(let signer, _, _):
            return (
                .signerMismatch,
                "the envelope is signed by key \(signer.hex) but the commitment names meter \(hex); it must be signed by its own meter"
            )
        case .unknownSigner, .tnt(.notEnrolled):
            return (
                .unknownMeter,
                "meter \(hex) is not enrolled with this gateway; enroll its public key with `edge-gateway enroll`"
            )
        case .tnt(.revoked):
            return (.revokedMeter, "meter \(hex) was revoked; its OCMF documents are no longer accepted")
        case .ocmfForOtherGateway(_, _, let named, let gateway):
            return (
                .wrongGateway,
                "OCMF document T\(c.pagination) of meter \(hex) is addressed to gateway \(named.hex), not this gateway \(gateway.hex)"
            )
        case .ocmfPaginationGap(_, let expected, let found):
            return (
                .sequenceGap,
                "expected OCMF pagination T\(expected) for meter \(hex), got T\(found): send T\(expected)…T\(found - 1) first"
            )
        case .ocmfPeriodOverlap:
            return (.invalidOCMF, "\(violation)")
        default:
            return (.malformed, "the chain refuses the OCMF commitment: \(violation)")
        }
    }
}
