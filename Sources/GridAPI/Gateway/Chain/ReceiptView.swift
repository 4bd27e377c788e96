/// Everything a meter owner needs to prove offline that a reading is on the chain:
/// the record bytes, the signed block header, and the Merkle inclusion proof against the
/// header's root (check the header's signature with the gateway key, then the proof).
package struct ReceiptView: Codable, Sendable {
    package var meter: String
    package var sequence: UInt64
    /// The signed reading envelope, verbatim, base64.
    package var record: String
    package var entryIndex: UInt64
    /// SHA-256(0x00 ‖ record bytes), hex.
    package var leafHash: String
    package var block: ReceiptBlock
    package var proof: ProofView
    /// The gateway's public key, `ed25519 <base64>`.
    package var gatewayKey: String
    package var reading: ReadingView
    /// The super node's checkpoint of the block holding the reading; absent until the
    /// block is checkpointed (then `checkpointed` is false).
    package var checkpoint: CheckpointEntryView? = nil
    /// Whether `checkpoint` is present.
    package var checkpointed: Bool? = nil

    package struct ReceiptBlock: Codable, Sendable {
        package var height: UInt64
        /// The 214 signed header bytes (150 header + 64 signature), base64.
        package var signedHeader: String
        package var header: HeaderView

        package init(
            height: UInt64,
            signedHeader: String,
            header: HeaderView
        ) {
            self.height = height
            self.signedHeader = signedHeader
            self.header = header
        }
    }

    package init(
        meter: String,
        sequence: UInt64,
        record: String,
        entryIndex: UInt64,
        leafHash: String,
        block: ReceiptBlock,
        proof: ProofView,
        gatewayKey: String,
        reading: ReadingView,
        checkpoint: CheckpointEntryView? = nil,
        checkpointed: Bool? = nil
    ) {
        self.meter = meter
        self.sequence = sequence
        self.record = record
        self.entryIndex = entryIndex
        self.leafHash = leafHash
        self.block = block
        self.proof = proof
        self.gatewayKey = gatewayKey
        self.reading = reading
        self.checkpoint = checkpoint
        self.checkpointed = checkpointed
    }
}
