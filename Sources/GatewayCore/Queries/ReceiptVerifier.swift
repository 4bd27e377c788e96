import Foundation
import GridAPI
import LedgerLite
import LedgerStore

/// Why a receipt does not verify. Each case is a distinct, precise sentence.
package enum ReceiptFailure: Error, CustomStringConvertible, Equatable {
    case malformed(String)
    case tamperedRecord(String)
    case badHeader(String)
    case missingCheckpoint(height: UInt64)
    case wrongRootKey(String)
    case otherBlock(String)

    package var description: String {
        switch self {
        case let .malformed(s): return "not a usable receipt: \(s)"
        case let .tamperedRecord(s): return "the record is not on the chain as the receipt claims: \(s)"
        case let .badHeader(s): return "the block header is not the gateway's: \(s)"
        case let .missingCheckpoint(height):
            return
                "the receipt carries no super node checkpoint: block \(height) was not checkpointed when the receipt was made; ask for the receipt again once it is (edge-gateway inspect checkpoints)"
        case let .wrongRootKey(s): return "the checkpoint is not the super node's: \(s)"
        case let .otherBlock(s): return "the checkpoint is for another block: \(s)"
        }
    }
}

/// Checks a receipt (`inspect receipt --json`, `GET /v1/readings/{meter}/{seq}/receipt`)
/// offline: nothing but the receipt and the super node's root public key.
package enum ReceiptVerifier {
    /// What was checked, one line each (also given to `report` as each check passes);
    /// throws the first failure.
    @discardableResult
    package static func verify(
        _ json: Data,
        rootKey: PublicIdentity,
        report: (String) -> Void = { _ in }
    ) throws(ReceiptFailure) -> [String] {
        let receipt: ReceiptView
        do { receipt = try JSONDecoder().decode(ReceiptView.self, from: json) } catch {
            throw .malformed(
                "the JSON is not a receipt (\(Gateway.describe(error))); use the output of `edge-gateway inspect receipt METER SEQ --json`"
            )
        }
        guard let recordBytes = Data(base64Encoded: receipt.record).map(Array.init) else {
            throw .tamperedRecord("\"record\" is not base64")
        }
        guard let headerBytes = Data(base64Encoded: receipt.block.signedHeader).map(Array.init),
            let header = try? SignedBlockHeader(bytes: headerBytes)
        else {
            throw .badHeader("\"block.signedHeader\" is not the 214 bytes of a signed block header")
        }
        guard let gatewayKey = try? KeyFile.parsePublicKeyLine(receipt.gatewayKey).identity else {
            throw .malformed("\"gatewayKey\" is not 'ed25519 <base64>'")
        }
        let h = header.header
        var checked: [String] = []
        func note(_ line: String) {
            checked.append(line)
            report(line)
        }

        // 1. The record is the entry the proof leads to, under the header's Merkle root.
        guard let entry = try? SignedRecord(bytes: recordBytes) else {
            throw .tamperedRecord("the record bytes do not decode as a signed record")
        }
        guard case let .reading(reading) = entry.record, reading.meter.hex == receipt.meter,
            reading.sequence == receipt.sequence
        else {
            throw .tamperedRecord("the record is not reading \(receipt.sequence) of meter \(receipt.meter)")
        }
        guard let proof = receipt.proof.proof else {
            throw .malformed("\"proof.path\" holds something that is not a 32-byte hex hash")
        }
        guard proof.leafIndex == receipt.entryIndex, proof.treeSize == h.treeSize else {
            throw .tamperedRecord(
                "the proof is for leaf \(proof.leafIndex) of a tree of \(proof.treeSize) entries, but the record is entry \(receipt.entryIndex) and block \(h.height) closes a tree of \(h.treeSize)"
            )
        }
        guard proof.verify(entry: recordBytes, root: h.merkleRoot) else {
            throw .tamperedRecord(
                "its Merkle proof does not lead to the merkle root \(h.merkleRoot.hex) of block \(h.height) (the record, the proof or the header was altered)"
            )
        }
        note(
            "record     reading \(reading.sequence) of meter \(reading.meter.hex) is entry \(proof.leafIndex): its proof (\(proof.path.count) hashes) leads to merkle root \(h.merkleRoot.hex) (tree size \(h.treeSize))"
        )

        // 2. The header is signed by the gateway key in the receipt.
        guard gatewayKey.id == h.gateway else {
            throw .badHeader(
                "the header names gateway \(h.gateway.hex), but the receipt's gateway key is \(gatewayKey.id.hex)"
            )
        }
        guard header.isSignatureValid(by: gatewayKey) else {
            throw .badHeader(
                "the signature of block \(h.height)'s header does not verify under the gateway key \(gatewayKey.id.hex)"
            )
        }
        note("header     block \(h.height) (hash \(header.hash.hex)) is signed by gateway \(h.gateway.hex)")

        // 3. The super node's checkpoint names this block and is signed by the root key.
        guard let view = receipt.checkpoint else { throw .missingCheckpoint(height: h.height) }
        guard let bytes = Data(base64Encoded: view.checkpoint).map(Array.init),
            let signed = try? SignedCheckpoint(bytes: bytes)
        else {
            throw .malformed("\"checkpoint.checkpoint\" is not the 194 bytes of a signed checkpoint")
        }
        let c = signed.checkpoint
        guard c.issuer == rootKey.id else {
            throw .wrongRootKey(
                "it was issued by root key \(c.issuer.hex), not by the given root key \(rootKey.id.hex)"
            )
        }
        guard signed.isSignatureValid(by: rootKey) else {
            throw .wrongRootKey(
                "its signature does not verify under root key \(rootKey.id.hex) (the checkpoint was altered)"
            )
        }
        do { try CheckpointCheck.verify(signed, root: rootKey, header: header) } catch {
            throw .otherBlock(error.description)
        }
        note(
            "checkpoint signed by super node root key \(rootKey.id.hex) at \(isoTime(c.checkpointedAt)) (certificate serial \(c.certificateSerial)): names gateway \(c.gateway.hex), block \(c.height), its hash, merkle root and tree size \(c.treeSize)"
        )
        return checked
    }
}
