/// A decoded record: `type` plus the fields of that type.
package struct RecordView: Codable, Sendable {
    package var type: String
    package var reading: ReadingView?
    package var anomaly: AnomalyView?
    package var enrollment: MembershipView?
    package var revocation: MembershipView?
    package var escalation: EscalationRecordView?
    package var authority: AuthorityRecordView?
    package var ocmfCommitment: OCMFCommitmentView?

    package init(
        type: String,
        reading: ReadingView? = nil,
        anomaly: AnomalyView? = nil,
        enrollment: MembershipView? = nil,
        revocation: MembershipView? = nil,
        escalation: EscalationRecordView? = nil,
        authority: AuthorityRecordView? = nil,
        ocmfCommitment: OCMFCommitmentView? = nil
    ) {
        self.type = type
        self.reading = reading
        self.anomaly = anomaly
        self.enrollment = enrollment
        self.revocation = revocation
        self.escalation = escalation
        self.authority = authority
        self.ocmfCommitment = ocmfCommitment
    }
}
