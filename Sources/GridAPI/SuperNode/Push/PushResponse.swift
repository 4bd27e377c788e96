/// `POST /v1/blocks` answer.
package struct PushResponse: Codable, Sendable {
    package var checkpoints: [CheckpointView]
    /// The value flags the accepted blocks raised (replays raise none).
    package var flags: [ValueFlagView] = []
    package var rejected: RejectionView?

    package init(checkpoints: [CheckpointView], flags: [ValueFlagView] = [], rejected: RejectionView?) {
        self.checkpoints = checkpoints
        self.flags = flags
        self.rejected = rejected
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpoints = try c.decode([CheckpointView].self, forKey: .checkpoints)
        flags = try c.decodeIfPresent([ValueFlagView].self, forKey: .flags) ?? []
        rejected = try c.decodeIfPresent(RejectionView.self, forKey: .rejected)
    }
}
