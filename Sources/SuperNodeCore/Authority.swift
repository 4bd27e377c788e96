import Foundation
import LedgerLite
import OperatorKit

/// Certifying, revoking and reinstating gateways: what `certify`, `revoke` and `reinstate`
/// do (directly on the store, so they work whether or not a server is running; a running
/// server reads revocations and suspensions from the store on every push).
package enum Authority {
    /// Issues a certificate for `gatewayKey`, records it and returns it.
    /// - Throws: `AuthorityError` when the gateway already holds an unrevoked certificate or
    ///   the name is not acceptable.
    package static func certify(
        store: AuthorityStore,
        root: SigningIdentity,
        gatewayKey: PublicIdentity,
        name: String,
        now: Int64
    ) async throws -> SignedGatewayCertificate {
        try await store.write { db in
            try db.serialize(on: .register)
            let existing = try AuthorityStore.certificates(db, gateway: gatewayKey.id)
            if let live = existing.first(where: { $0.revokedAt == nil }) {
                throw AuthorityError.alreadyCertified(
                    gateway: gatewayKey.id,
                    serial: live.certificate.serial,
                    name: live.certificate.name
                )
            }
            let serial = try AuthorityStore.nextSerial(db)
            let certificate: GatewayCertificate
            do {
                certificate = try GatewayCertificate(
                    issuer: root.id,
                    gatewayKey: gatewayKey,
                    serial: serial,
                    issuedAt: now,
                    name: name
                )
            } catch {
                throw AuthorityError.badName(name, underlying: "\(error)")
            }
            let signed = try SignedGatewayCertificate.sign(certificate, with: root)
            try AuthorityStore.insert(signed, db)
            return signed
        }
    }

    /// What to revoke.
    package enum Target: Sendable {
        case gateway(GatewayID)
        case serial(UInt64)
    }

    /// Revokes a certificate (or every unrevoked certificate of a gateway); returns the
    /// serials revoked.
    package static func revoke(store: AuthorityStore, _ target: Target, now: Int64) async throws -> [CertificateRow] {
        try await store.write { db in
            try db.serialize(on: .register)
            let rows: [CertificateRow]
            switch target {
            case let .serial(serial):
                guard let row = try AuthorityStore.certificate(db, serial: serial) else {
                    throw AuthorityError.unknownSerial(serial)
                }
                if let at = row.revokedAt {
                    throw AuthorityError.serialAlreadyRevoked(serial: serial, gateway: row.certificate.gateway, at: at)
                }
                rows = [row]
            case let .gateway(gateway):
                let all = try AuthorityStore.certificates(db, gateway: gateway)
                guard !all.isEmpty else {
                    throw AuthorityError.uncertifiedGateway(gateway, listedBy: "`edge-gateway init` prints it")
                }
                rows = all.filter { $0.revokedAt == nil }
                guard !rows.isEmpty else {
                    throw AuthorityError.gatewayAlreadyRevoked(gateway)
                }
            }
            for row in rows { try AuthorityStore.revoke(serial: row.certificate.serial, at: now, db) }
            return rows.map { CertificateRow(signed: $0.signed, revokedAt: now) }
        }
    }
}

extension Authority {
    /// Most bytes a reinstatement note may have.
    package static let maxNoteBytes = 1024

    /// What `reinstate` did: the suspension lifted (with the reinstatement's time, height
    /// and note), the gateway's latest certificate, and its flags on record.
    package struct Reinstated: Sendable {
        package var suspension: Suspension
        package var certificate: GatewayCertificate
        package var flagsOnRecord: Int
    }

    /// Lifts a gateway's suspension and resets its flag count (flagged blocks count anew
    /// above its accepted chain as it stands; the flags stay stored). Directly on the store,
    /// so it works with or without a running server, which reads suspensions on every push.
    /// - Throws: `AuthorityError` when the gateway holds no certificate, is not suspended, or
    ///   the note is not acceptable.
    package static func reinstate(
        store: AuthorityStore,
        gateway: GatewayID,
        note: String?,
        now: Int64
    ) async throws -> Reinstated {
        if let note { try checkNote(note) }
        return try await store.write { db in
            try db.serialize(on: .register)
            guard let latest = try AuthorityStore.certificates(db, gateway: gateway).last else {
                throw AuthorityError.uncertifiedGateway(gateway, listedBy: "GET /v1/gateways lists them")
            }
            guard let lifted = try AuthorityStore.reinstate(gateway: gateway, at: now, note: note, db) else {
                let standing = try AuthorityStore.valueStanding(db, gateway: gateway)
                throw AuthorityError.notSuspended(
                    gateway: gateway,
                    name: latest.certificate.name,
                    flaggedBlocks: standing.flaggedBlocks
                )
            }
            let flags = try AuthorityStore.flags(db, gateway: gateway).count
            return Reinstated(suspension: lifted, certificate: latest.certificate, flagsOnRecord: flags)
        }
    }

    /// Checks a reinstatement note: at most `maxNoteBytes` bytes of UTF-8, no control
    /// characters.
    package static func checkNote(_ note: String) throws {
        guard note.utf8.count <= maxNoteBytes,
            !note.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw AuthorityError.badNote
        }
    }
}
